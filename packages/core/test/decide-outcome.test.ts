import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Capabilities } from '../src/adapter.js';
import {
  type DecisionPolicy,
  type DeliveryFacts,
  decideDelivery,
  decideResult,
  type HandlerResult,
  type Outcome,
  type RunDecision,
  rejectPayload,
} from '../src/decide-outcome.js';
import type { Envelope } from '../src/envelope.js';
import { BgError, permanentError } from '../src/errors.js';
import { defineJob } from '../src/job.js';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const CREATED = '2026-11-29T11:59:00.000Z';
const iso = (ms: number) => new Date(ms).toISOString();

/** A backend with native delays of at most 15 min (SQS-like). */
const delaying: Capabilities = {
  maxPayloadBytes: 1_000,
  maxDelayMs: 900_000,
  maxLeaseMs: 600_000,
  minLeaseMs: 1,
  maxReleaseDelayMs: 43_200_000,
  maxBatchSize: 10,
  extendBeyondMax: 'clamp',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: false,
  deduplication: false,
  durable: true,
};
/** A backend without native delays that dead-letters after 10 deliveries (Pub/Sub-like). */
const parking: Capabilities = { ...delaying, maxDelayMs: 0, maxReleaseDelayMs: 600_000, maxDeliveries: 10 };

const job = defineJob({
  type: 'unit.job',
  version: 2,
  schema: z.object({ n: z.number() }),
  migrate: { 1: (old: { n: number }) => old },
  retry: { maxAttempts: 3, baseMs: 1_000, maxMs: 60_000 },
});
const half = () => 0.5;
const policy = (capabilities: Capabilities, more: Partial<DecisionPolicy> = {}): DecisionPolicy => ({
  capabilities,
  versionWindowMs: 15 * 60_000,
  random: half,
  ...more,
});
const envelope = (more: Partial<Envelope> = {}): Envelope => ({
  bg: 1,
  id: '0193a6c0-0000-7000-8000-000000000001',
  type: 'unit.job',
  v: 2,
  payload: { n: 1 },
  createdAt: CREATED,
  ...more,
});
const facts = (more: Partial<DeliveryFacts> = {}): DeliveryFacts => ({
  envelope: envelope(),
  job,
  deliveryCount: 1,
  hopped: false,
  ...more,
});
/** The retry delay the job's policy gives `attempt` with the fixed jitter above. */
const backoff = (attempt: number) => 1_000 + 0.5 * (Math.min(1_000 * 2 ** (attempt - 1), 60_000) - 1_000);

describe('decideDelivery: what to do with a delivery before any handler runs', () => {
  const cases: Array<{ branch: string; facts: DeliveryFacts; policy: DecisionPolicy; expected: Outcome | Partial<RunDecision> }> =
    [
      {
        branch: 'malformed envelope → dead-letter malformed-envelope, attempts = delivery count, no job type',
        facts: facts({ envelope: undefined, decodeError: new Error('not JSON'), job: undefined, deliveryCount: 4 }),
        policy: policy(delaying),
        expected: {
          kind: 'dead-letter',
          reason: 'malformed-envelope',
          attempts: 4,
          jobType: undefined,
          error: expect.objectContaining({ message: 'not JSON' }),
        },
      },
      {
        branch: 'early, native delay → hop by re-send, delayed by the rest capped at the native maximum',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW + 3_600_000) }) }),
        policy: policy(delaying),
        expected: { kind: 'hop', via: 'resend', delayMs: 900_000, remainingMs: 3_600_000 },
      },
      {
        branch: 'early, native delay, less than its maximum left → hop by re-send for exactly the rest',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW + 5_000) }), deliveryCount: 3 }),
        policy: policy(delaying),
        expected: { kind: 'hop', via: 'resend', delayMs: 5_000, remainingMs: 5_000 },
      },
      {
        branch: 'early, no native delay, below the park budget → hop by park, at most maxReleaseDelayMs',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW + 3_600_000) }), deliveryCount: 4 }),
        policy: policy(parking),
        expected: { kind: 'hop', via: 'park', delayMs: 600_000, remainingMs: 3_600_000 },
      },
      {
        branch: 'early, no native delay, park budget spent (half of maxDeliveries) → hop by re-send at once',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW + 3_600_000) }), deliveryCount: 5 }),
        policy: policy(parking),
        expected: { kind: 'hop', via: 'resend', delayMs: 0, remainingMs: 3_600_000 },
      },
      {
        branch: 'due after parks, not yet re-sent → re-send for a fresh delivery count',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW - 1) }), deliveryCount: 3 }),
        policy: policy(parking),
        expected: { kind: 're-send' },
      },
      {
        branch: 'due after parks, already re-sent (hopped) → run as attempt 1 of the fresh count',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW - 1) }), deliveryCount: 1, hopped: true }),
        policy: policy(parking),
        expected: { kind: 'run', attempt: 1 },
      },
      {
        branch: 'due on its first delivery without native delays → re-send too (its retries must not look like parks)',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW) }), deliveryCount: 1 }),
        policy: policy(parking),
        expected: { kind: 're-send' },
      },
      {
        branch: 'due, hopped, redelivered after a failed attempt → run as attempt 2 (no second re-send)',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW - 60_000) }), deliveryCount: 2, hopped: true }),
        policy: policy(parking),
        expected: { kind: 'run', attempt: 2 },
      },
      {
        branch: 'due with native delays, redelivered → run (its hops were re-sends, the count is real)',
        facts: facts({ envelope: envelope({ notBefore: iso(NOW - 1) }), deliveryCount: 2 }),
        policy: policy(delaying),
        expected: { kind: 'run', attempt: 2 },
      },
      {
        branch: 'unknown type → dead-letter unknown-type with the envelope createdAt',
        facts: facts({ envelope: envelope({ type: 'other.job' }), job: undefined, deliveryCount: 2 }),
        policy: policy(delaying),
        expected: {
          kind: 'dead-letter',
          reason: 'unknown-type',
          attempts: 2,
          jobType: 'other.job',
          error: { message: 'no handler for job type "other.job"' },
          enqueuedAt: Date.parse(CREATED),
        },
      },
      {
        branch: 'newer unknown version, first deferral → re-send marked with now, natively delayed by the job backoff',
        facts: facts({ envelope: envelope({ v: 3 }), deliveryCount: 2 }),
        policy: policy(delaying),
        expected: { kind: 'defer', via: 'resend', delayMs: backoff(2), deferredAt: NOW },
      },
      {
        branch: 'newer unknown version, first deferral without native delays → re-send at once, marked',
        facts: facts({ envelope: envelope({ v: 3 }), deliveryCount: 1 }),
        policy: policy(parking),
        expected: { kind: 'defer', via: 'resend', delayMs: 0, deferredAt: NOW },
      },
      {
        branch: 'newer unknown version, deferred before, within the window → park with the job backoff',
        facts: facts({ envelope: envelope({ v: 3 }), deliveryCount: 2, deferredAt: NOW - 60_000 }),
        policy: policy(delaying),
        expected: { kind: 'defer', via: 'park', delayMs: backoff(2) },
      },
      {
        branch: 'newer unknown version, deferred before → park capped at maxReleaseDelayMs',
        facts: facts({ envelope: envelope({ v: 3 }), deliveryCount: 9, deferredAt: NOW - 60_000 }),
        policy: policy({ ...delaying, maxReleaseDelayMs: 1_500 }),
        expected: { kind: 'defer', via: 'park', delayMs: 1_500 },
      },
      {
        branch: 'newer unknown version, deferred before, half the delivery cap spent → re-send, keeping the mark',
        facts: facts({ envelope: envelope({ v: 3 }), deliveryCount: 5, deferredAt: NOW - 60_000 }),
        policy: policy(parking),
        expected: { kind: 'defer', via: 'resend', delayMs: 0, deferredAt: NOW - 60_000 },
      },
      {
        branch: 'newer unknown version, created long ago, first deferral → defer (the window runs from it)',
        facts: facts({ envelope: envelope({ v: 3, createdAt: iso(NOW - 86_400_000) }), deliveryCount: 1 }),
        policy: policy(delaying),
        expected: { kind: 'defer', via: 'resend', delayMs: backoff(1), deferredAt: NOW },
      },
      {
        branch: 'known version, deferred before (bg-deferred) → re-send for a fresh count before it runs',
        facts: facts({ deliveryCount: 6, deferredAt: NOW - 60_000 }),
        policy: policy(delaying),
        expected: { kind: 're-send' },
      },
      {
        branch: 'newer unknown version, window 0 → dead-letter at once',
        facts: facts({ envelope: envelope({ v: 3 }), deliveryCount: 1 }),
        policy: policy(delaying, { versionWindowMs: 0 }),
        expected: {
          kind: 'dead-letter',
          reason: 'unknown-version',
          attempts: 1,
          jobType: 'unit.job',
          error: { message: '"unit.job" payload v3 is newer than v2 known to this worker' },
          enqueuedAt: Date.parse(CREATED),
        },
      },
      {
        branch: 'newer unknown version deferred since longer than the window → dead-letter unknown-version',
        facts: facts({ envelope: envelope({ v: 3 }), deliveryCount: 2, deferredAt: NOW - 60_000 }),
        policy: policy(delaying, { versionWindowMs: 60_000 }),
        expected: {
          kind: 'dead-letter',
          reason: 'unknown-version',
          attempts: 2,
          jobType: 'unit.job',
          error: { message: '"unit.job" payload v3 is newer than v2 known to this worker' },
          enqueuedAt: Date.parse(CREATED),
        },
      },
      {
        branch: 'older version → run (migrated before validation)',
        facts: facts({ envelope: envelope({ v: 1 }), deliveryCount: 1 }),
        policy: policy(delaying),
        expected: { kind: 'run', attempt: 1, job },
      },
      {
        branch: 'current version → run, attempt = delivery count',
        facts: facts({ deliveryCount: 3 }),
        policy: policy(delaying),
        expected: { kind: 'run', attempt: 3, job },
      },
    ];
  for (const c of cases) {
    it(c.branch, () => {
      const decided = decideDelivery(c.facts, c.policy, NOW);
      expect(
        decided,
        `decideDelivery(${JSON.stringify(c.facts.envelope ?? null)}, count ${c.facts.deliveryCount})`,
      ).toMatchObject(c.expected);
      if (c.expected.kind !== 'run') expect(decided, 'no extra fields beyond the expected outcome').toEqual(c.expected);
    });
  }

  it('invalid payload → dead-letter invalid-payload with the validation error', () => {
    const run = decideDelivery(facts({ deliveryCount: 2 }), policy(delaying), NOW) as RunDecision;
    expect(rejectPayload(run, new Error('n: expected number'))).toEqual({
      kind: 'dead-letter',
      reason: 'invalid-payload',
      attempts: 2,
      jobType: 'unit.job',
      error: expect.objectContaining({ message: 'n: expected number' }),
      enqueuedAt: Date.parse(CREATED),
    });
  });
});

describe('decideResult: what to do once the handler returned', () => {
  const runAt = (attempt: number): RunDecision => ({ kind: 'run', job, envelope: envelope(), attempt });
  const ok: HandlerResult = { failed: false, abandoned: false, stopping: false };
  const failed = (error: unknown, more: Partial<HandlerResult> = {}): HandlerResult => ({
    failed: true,
    error,
    abandoned: false,
    stopping: false,
    ...more,
  });
  const boom = new Error('boom');
  const cases: Array<{ branch: string; attempt: number; result: HandlerResult; policy?: DecisionPolicy; expected: Outcome }> = [
    { branch: 'succeeded → ack', attempt: 1, result: ok, expected: { kind: 'ack' } },
    {
      branch: 'succeeded after the lease was lost → forget (never ack)',
      attempt: 1,
      result: { ...ok, abandoned: true },
      expected: { kind: 'forget' },
    },
    {
      branch: 'failed after the lease was lost → forget',
      attempt: 3,
      result: failed(boom, { abandoned: true }),
      expected: { kind: 'forget' },
    },
    {
      branch: 'failed while the worker stops → hand-back',
      attempt: 1,
      result: failed(boom, { stopping: true }),
      expected: { kind: 'hand-back' },
    },
    {
      branch: 'permanent error of its own while the worker stops → dead-letter permanent-error',
      attempt: 1,
      result: failed(permanentError('no'), { stopping: true, errorInfo: { message: 'no' } }),
      expected: {
        kind: 'dead-letter',
        reason: 'permanent-error',
        attempts: 1,
        jobType: 'unit.job',
        error: { message: 'no' },
        enqueuedAt: Date.parse(CREATED),
      },
    },
    {
      branch: "the stop's own CLOSED passed on while the worker stops → hand-back",
      attempt: 1,
      result: failed(new BgError('CLOSED', 'the worker is stopping'), { stopping: true }),
      expected: { kind: 'hand-back' },
    },
    {
      branch: 'non-retryable BgError → dead-letter permanent-error',
      attempt: 1,
      result: failed(permanentError('no such user'), { errorInfo: { message: 'no such user' } }),
      expected: {
        kind: 'dead-letter',
        reason: 'permanent-error',
        attempts: 1,
        jobType: 'unit.job',
        error: { message: 'no such user' },
        enqueuedAt: Date.parse(CREATED),
      },
    },
    {
      branch: 'isPermanent says so → dead-letter permanent-error',
      attempt: 1,
      result: failed(boom, { errorInfo: { message: 'boom' } }),
      policy: policy(delaying, { isPermanent: (e) => e === boom }),
      expected: {
        kind: 'dead-letter',
        reason: 'permanent-error',
        attempts: 1,
        jobType: 'unit.job',
        error: { message: 'boom' },
        enqueuedAt: Date.parse(CREATED),
      },
    },
    {
      branch: 'TIMEOUT (non-retryable code, but retried) → retry with backoff',
      attempt: 1,
      result: failed(new BgError('TIMEOUT', 'slow', { retryable: false })),
      expected: { kind: 'retry', delayMs: backoff(1) },
    },
    {
      branch: 'last attempt failed → dead-letter max-attempts',
      attempt: 3,
      result: failed(boom, { errorInfo: { message: 'boom' } }),
      expected: {
        kind: 'dead-letter',
        reason: 'max-attempts',
        attempts: 3,
        jobType: 'unit.job',
        error: { message: 'boom' },
        enqueuedAt: Date.parse(CREATED),
      },
    },
    {
      branch: 'retryable failure before the last attempt → retry with backoff',
      attempt: 2,
      result: failed(boom),
      expected: { kind: 'retry', delayMs: backoff(2) },
    },
    {
      branch: 'retryable failure → retry capped at maxReleaseDelayMs',
      attempt: 2,
      result: failed(boom),
      policy: policy({ ...delaying, maxReleaseDelayMs: 10 }),
      expected: { kind: 'retry', delayMs: 10 },
    },
  ];
  for (const c of cases) {
    it(c.branch, () => {
      expect(
        decideResult(runAt(c.attempt), c.result, c.policy ?? policy(delaying)),
        `decideResult at attempt ${c.attempt}`,
      ).toEqual(c.expected);
    });
  }

  it('a dead letter without a summarised error summarises the thrown value itself', () => {
    const outcome = decideResult(runAt(3), failed(new Error('token=abc123secret failed')), policy(delaying));
    expect(outcome.kind === 'dead-letter' && outcome.error?.message, 'the error is summarised and redacted').not.toContain(
      'abc123secret',
    );
  });
});
