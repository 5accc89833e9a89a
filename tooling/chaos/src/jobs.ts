import { defineJob } from '@bg/core';
import { z } from 'zod';

/** Payload of every chaos job: its index and how long its handler works. */
const payload = z.object({ n: z.number().int(), workMs: z.number().int().min(0) });

/** A job that always succeeds (after `workMs`). Crashes count as attempts, so allow many. */
export const healthyJob = defineJob({
  type: 'chaos.healthy',
  schema: payload,
  retry: { maxAttempts: 50, baseMs: 100, maxMs: 1_000 },
});

/** A job that fails its first {@link FLAKY_FAILURES} attempts, then succeeds. */
export const flakyJob = defineJob({
  type: 'chaos.flaky',
  schema: payload,
  retry: { maxAttempts: 50, baseMs: 100, maxMs: 1_000 },
});

/** How many attempts of a flaky job fail before it succeeds. */
export const FLAKY_FAILURES = 2;

/** A job that always fails: it must end dead-lettered with `max-attempts`. */
export const poisonJob = defineJob({
  type: 'chaos.poison',
  schema: payload,
  retry: { maxAttempts: 3, baseMs: 100, maxMs: 500 },
});

/** A graceful-recycle job: `workMs` long, deaf to the abort signal (like a blocking call). */
export const longJob = defineJob({
  type: 'chaos.long',
  schema: payload,
  retry: { maxAttempts: 50, baseMs: 100, maxMs: 1_000 },
});

/** The kinds of job the harness enqueues. */
export type JobKind = 'healthy' | 'flaky' | 'poison';
