/**
 * The job definitions shared by the web service (producer) and the workers (consumers).
 * Payloads are data validated by zod schemas and versioned: never code, never closures.
 * @module
 */
import { defineJob } from '@bg/core';
import { z } from 'zod';

/** Version 1 of the welcome email payload (what the previous release of the service wrote). */
export const welcomeEmailV1Schema = z.object({ userId: z.string().min(1), email: z.email() });

/** Version 2 of the welcome email payload: the email is now localised. */
export const welcomeEmailSchema = z.object({
  userId: z.string().min(1),
  email: z.email(),
  locale: z.string().min(2).max(35),
});

/**
 * Sends the welcome email of a new user. Version 2 added `locale`; jobs still queued at
 * version 1 (written before the deploy) are upgraded by the migration before the handler
 * sees them, so the handler only ever deals with the current shape.
 */
export const welcomeEmail = defineJob({
  type: 'email.welcome',
  version: 2,
  schema: welcomeEmailSchema,
  migrate: { 1: (old: z.infer<typeof welcomeEmailV1Schema>) => ({ ...old, locale: 'en' }) },
  retry: { maxAttempts: 5, backoff: 'exponential', baseMs: 500, maxMs: 10_000 },
});

/**
 * The welcome email as the previous release defined it (version 1, no migrations). Only the
 * demo uses it, to play an old web server that still enqueues v1 jobs during a rolling deploy.
 */
export const welcomeEmailV1 = defineJob({ type: 'email.welcome', version: 1, schema: welcomeEmailV1Schema });

/** Makes the thumbnail of a new user's avatar. */
export const avatarThumbnail = defineJob({
  type: 'image.thumbnail',
  version: 1,
  schema: z.object({
    userId: z.string().min(1),
    avatarUrl: z.url(),
    size: z.number().int().min(16).max(1024),
  }),
  retry: { maxAttempts: 5, backoff: 'exponential', baseMs: 500, maxMs: 10_000 },
  timeoutMs: 20_000,
});

/** Every job type a worker of this app handles. */
export const jobs = [welcomeEmail, avatarThumbnail] as const;
