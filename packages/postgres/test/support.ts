// Helpers shared by the postgres tests: a job type that takes any object, fresh names, and
// waiting for a condition.
import { randomBytes } from 'node:crypto';
import { defineJob } from '@bg/core';

/** A job type whose payload is any object (the tests look at what is stored, not at payloads). */
export function anyObjectJob(type: string) {
  return defineJob({
    type,
    schema: {
      '~standard': {
        version: 1,
        vendor: 'test',
        types: undefined as unknown as { input: Record<string, unknown>; output: Record<string, unknown> },
        validate: (value: unknown) => ({ value: value as Record<string, unknown> }),
      },
    },
  });
}

/** `prefix` with a random suffix: a queue or schema name no other test uses. */
export const fresh = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Resolves once `check()` holds (polled every 25 ms), else rejects naming `what` after `deadlineMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
