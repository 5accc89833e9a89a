import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineJob, isBgError, type JobInput, type JobPayload, migratePayload, validatePayload } from '../src/index.js';

describe('defineJob', () => {
  const welcome = defineJob({
    type: 'email.welcome',
    version: 3,
    schema: z.object({ userId: z.string(), locale: z.string(), tier: z.enum(['free', 'pro']).default('free') }),
    migrate: {
      1: (old: { user: string }) => ({ userId: old.user }),
      2: (old: { userId: string }) => ({ ...old, locale: 'en' }),
    },
    retry: { maxAttempts: 4 },
    timeoutMs: 5_000,
  });

  it('infers payload types from definition to handler', () => {
    expectTypeOf<JobInput<typeof welcome>>().toEqualTypeOf<{
      userId: string;
      locale: string;
      tier?: 'free' | 'pro' | undefined;
    }>();
    expectTypeOf<JobPayload<typeof welcome>>().toEqualTypeOf<{ userId: string; locale: string; tier: 'free' | 'pro' }>();
    expect(welcome.type).toBe('email.welcome');
    expect(welcome.retry.maxAttempts).toBe(4);
    expect(welcome.retry.baseMs).toBe(1_000);
  });

  it('runs migrations in order from any old version', async () => {
    expect(migratePayload(welcome, 1, { user: 'u1' })).toEqual({ userId: 'u1', locale: 'en' });
    expect(await validatePayload(welcome, migratePayload(welcome, 1, { user: 'u1' }))).toEqual({
      userId: 'u1',
      locale: 'en',
      tier: 'free',
    });
    expect(migratePayload(welcome, 3, { userId: 'u', locale: 'de' })).toEqual({ userId: 'u', locale: 'de' });
    try {
      migratePayload(welcome, 4, {});
      expect.unreachable();
    } catch (error) {
      expect(isBgError(error, 'UNKNOWN_VERSION')).toBe(true);
    }
  });

  it('rejects definitions that would strand queued jobs', () => {
    const cases = [
      () => defineJob({ type: 'x', version: 2, schema: z.object({}) }),
      () => defineJob({ type: 'x', version: 3, schema: z.object({}), migrate: { 1: (o: unknown) => o } }),
      () => defineJob({ type: '', schema: z.object({}) }),
      () => defineJob({ type: 'x', version: 0, schema: z.object({}) }),
      () => defineJob({ type: 'x', schema: {} as never }),
      () => defineJob({ type: 'x', schema: z.object({}), migrate: { 1: (o: unknown) => o } }),
      () => defineJob({ type: 'x', schema: z.object({}), timeoutMs: 0 }),
    ];
    for (const make of cases) {
      try {
        make();
        expect.unreachable();
      } catch (error) {
        expect(isBgError(error, 'INVALID_JOB_DEFINITION'), String(error)).toBe(true);
      }
    }
  });

  it('accepts any Standard Schema: valibot too', async () => {
    const job = defineJob({ type: 'thumb', schema: v.object({ url: v.pipe(v.string(), v.url()) }) });
    expectTypeOf<JobPayload<typeof job>>().toEqualTypeOf<{ url: string }>();
    expect(await validatePayload(job, { url: 'https://example.com/a.png' })).toEqual({ url: 'https://example.com/a.png' });
    await expect(validatePayload(job, { url: 'nope' })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
  });

  it('lists every schema issue with its path', async () => {
    try {
      await validatePayload(welcome, { userId: 1 });
      expect.unreachable();
    } catch (error) {
      expect(isBgError(error, 'INVALID_PAYLOAD')).toBe(true);
      expect(String(error)).toContain('userId');
      expect(String(error)).toContain('locale');
    }
  });
});
