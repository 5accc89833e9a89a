/**
 * Findings of an outside audit on job definitions and their options: secrets echoed by schema
 * issues, async migrations, and options that were not typed errors (each test failed on the old
 * code).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createQueue,
  createWorker,
  type DeadLetter,
  defineJob,
  isBgError,
  migratePayload,
  validatePayload,
} from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';

/** The code of what `fn` throws or rejects with (with its message), or "accepted". */
async function outcomeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'accepted';
  } catch (error) {
    if (!isBgError(error)) return `not a BgError: ${String(error)}`;
    return `${error.code}${error.retryable ? ' (retryable!)' : ''}: ${error.message}`;
  }
}

/** Every text of an error a log, a response or a dead letter may show. */
function textsOf(error: unknown): Record<string, string> {
  const e = error as Error & { details?: unknown };
  return {
    message: e.message,
    'String(err)': String(e),
    stack: e.stack ?? '',
    details: JSON.stringify(e.details),
    'JSON.stringify(err)': JSON.stringify(e),
  };
}

const API_KEY = 'sk_live_SUPERSECRET123';
const SESSION = 'tok_9f8e7d6c5b4a-SECRET';

describe('INVALID_PAYLOAD never echoes a value received under a secret field (the schema quoted it: valibot)', () => {
  const charge = defineJob({
    type: 'charge',
    schema: v.object({
      apiKey: v.pipe(v.string(), v.regex(/^sk_live_[A-Za-z0-9]{24}$/)),
      sessionToken: v.pipe(v.string(), v.uuid()),
      email: v.pipe(v.string(), v.email()),
    }),
  });

  it('enqueue: the message, details and stack name the fields but hold neither secret; other fields keep their issue text', async () => {
    const adapter = inTestAdapter();
    const error = await createQueue({ adapter, queue: 'q-secret' })
      .enqueue(charge, { apiKey: API_KEY, sessionToken: SESSION, email: 'not-an-email' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(
      isBgError(error, 'INVALID_PAYLOAD'),
      `enqueue of an invalid payload rejects with INVALID_PAYLOAD, got ${String(error)}`,
    ).toBe(true);
    for (const [where, text] of Object.entries(textsOf(error))) {
      for (const secret of [API_KEY, 'SUPERSECRET123', SESSION, '9f8e7d6c5b4a']) {
        expect(text, `${where} of the INVALID_PAYLOAD error must not contain ${JSON.stringify(secret)}`).not.toContain(secret);
      }
    }
    const { message, details } = error as Error & { details: { issues: string[] } };
    expect(message, 'the message still names the invalid secret fields').toMatch(/apiKey: .*sessionToken: /);
    expect(details.issues, 'details.issues: one entry per issue, the secret ones withheld').toEqual([
      'apiKey: *** (invalid; the schema’s message is withheld: the field holds a secret)',
      'sessionToken: *** (invalid; the schema’s message is withheld: the field holds a secret)',
      'email: Invalid email: Received "not-an-email"',
    ]);
    await adapter.close();
  });

  it('the worker’s invalid-payload dead letter holds neither secret in its error text', async () => {
    const adapter = inTestAdapter();
    const queue = 'q-secret-dead';
    // A producer with an older, looser schema stored the job.
    const loose = defineJob({
      type: 'charge',
      schema: z.object({ apiKey: z.string(), sessionToken: z.string(), email: z.string() }),
    });
    const jobs = createQueue({ adapter, queue });
    await jobs.enqueue(loose, { apiKey: API_KEY, sessionToken: SESSION, email: 'a@example.com' });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let runs = 0;
    worker.handle(charge, () => {
      runs++;
    });
    await worker.start();
    let dead: DeadLetter | undefined;
    await until('the invalid-payload dead letter', async () => {
      [dead] = (await jobs.deadLetters.list()).items;
      return dead !== undefined;
    });
    await worker.stop();
    expect(runs, 'the handler never ran for an invalid payload').toBe(0);
    expect(dead?.reason, 'dead-letter reason').toBe('invalid-payload');
    const stored = JSON.stringify(dead?.error);
    for (const secret of [API_KEY, SESSION]) {
      expect(stored, `dead letter error ${stored} must not contain ${secret}`).not.toContain(secret);
    }
    expect(dead?.error?.message, 'the dead letter still says which fields failed').toContain('apiKey: ***');
    await adapter.close();
  });

  it('any issue that quotes a value held under a secret field is masked, whatever its path (a hand-written Standard Schema)', async () => {
    // Issues like valibot's or arktype's: a cross-field check at the root, one on a sibling
    // field, one under a secret object (every field below it is secret).
    const schema: StandardSchemaV1<unknown, unknown> = {
      '~standard': {
        version: 1,
        vendor: 'hand-written',
        validate: (input) => {
          const p = input as { apiKey: string; confirm: string; credentials: { value: string } };
          return {
            issues: [
              { message: `keys differ: "${p.apiKey}" vs "${p.confirm}"` },
              { message: `must equal apiKey (was "${p.confirm}", expected "${p.apiKey}")`, path: [{ key: 'confirm' }] },
              { message: `Invalid length: received "${p.credentials.value}"`, path: ['credentials', 'value'] },
              { message: 'must be a number (was "ten")', path: ['count'] },
            ],
          };
        },
      },
    };
    const job = defineJob({ type: 'keys', schema });
    const error = await validatePayload(job, {
      apiKey: API_KEY,
      confirm: 'plainConfirm1',
      credentials: { value: 'nestedCredential77' },
      count: 'ten',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBgError(error, 'INVALID_PAYLOAD'), `validatePayload rejects with INVALID_PAYLOAD, got ${String(error)}`).toBe(true);
    for (const [where, text] of Object.entries(textsOf(error))) {
      for (const secret of [API_KEY, 'nestedCredential77']) {
        expect(text, `${where} must not contain ${JSON.stringify(secret)}`).not.toContain(secret);
      }
    }
    expect((error as { details: { issues: string[] } }).details.issues, 'issue texts').toEqual([
      'keys differ: "***" vs "plainConfirm1"',
      'confirm: must equal apiKey (was "plainConfirm1", expected "***")',
      'credentials.value: *** (invalid; the schema’s message is withheld: the field holds a secret)',
      'count: must be a number (was "ten")',
    ]);
  });

  it('an issue text of a megabyte is cut short in the message', async () => {
    // valibot's `Invalid length` gives the length; a custom message (or arktype's `(was "…")`) the value.
    const job = defineJob({
      type: 'big',
      schema: v.object({
        note: v.pipe(
          v.string(),
          v.check(
            (s) => s.length <= 3,
            (issue) => `too long: "${issue.input}"`,
          ),
        ),
      }),
    });
    const error = (await validatePayload(job, { note: 'x'.repeat(1_000_000) }).catch((e: unknown) => e)) as Error;
    expect(isBgError(error, 'INVALID_PAYLOAD'), String(error).slice(0, 200)).toBe(true);
    expect(error.message.length, 'message length of an INVALID_PAYLOAD whose issue echoes 1 MB').toBeLessThan(2_000);
  });
});

describe('async migrations (they were accepted, then every old job was dead-lettered invalid-payload)', () => {
  const v1 = defineJob({ type: 'mail', schema: z.object({ to: z.string() }) });
  const v2 = defineJob({
    type: 'mail',
    version: 2,
    schema: z.object({ to: z.string(), locale: z.string() }),
    migrate: { 1: async (old: { to: string }) => ({ ...old, locale: 'en' }) },
  });

  it('a worker runs a v1 job through an async migrate[1] and its handler gets the v2 payload', async () => {
    const adapter = inTestAdapter();
    const queue = 'q-async-migrate';
    const jobs = createQueue({ adapter, queue });
    await jobs.enqueue(v1, { to: 'x@example.com' });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    const seen: unknown[] = [];
    worker.handle(v2, (payload) => {
      seen.push(payload);
    });
    await worker.start();
    await until('the handler or a dead letter', async () => seen.length > 0 || (await jobs.deadLetters.list()).items.length > 0);
    await worker.stop();
    const dead = (await jobs.deadLetters.list()).items.map((d) => `${d.reason}: ${d.error?.message}`);
    expect(dead, 'dead letters after an async migration').toEqual([]);
    expect(seen, 'payloads the v2 handler received').toEqual([{ to: 'x@example.com', locale: 'en' }]);
    await adapter.close();
  });

  it('migratePayload chains sync, async and thenable steps in order; validatePayload takes its promise', async () => {
    const v4 = defineJob({
      type: 'mixed',
      version: 4,
      schema: z.object({ steps: z.array(z.number()) }),
      migrate: {
        1: (old: { steps: number[] }) => ({ steps: [...old.steps, 1] }),
        2: async (old: { steps: number[] }) => ({ steps: [...old.steps, 2] }),
        // A thenable that is not a Promise (another promise library).
        // biome-ignore lint/suspicious/noThenProperty: the point of the test
        3: (old: { steps: number[] }) => ({ then: (resolve: (x: unknown) => void) => resolve({ steps: [...old.steps, 3] }) }),
      },
    });
    const migrated = migratePayload(v4, 1, { steps: [] });
    expect(migrated instanceof Promise, 'migratePayload with an async step returns a promise').toBe(true);
    expect(await migrated, 'migratePayload(v4, 1, { steps: [] })').toEqual({ steps: [1, 2, 3] });
    expect(await validatePayload(v4, migratePayload(v4, 2, { steps: [9] })), 'validatePayload of a migrating payload').toEqual({
      steps: [9, 2, 3],
    });
    expect(migratePayload(v4, 4, { steps: [7] }), 'no step to run: the payload itself, no promise').toEqual({ steps: [7] });
    const sync = defineJob({
      type: 'sync',
      version: 2,
      schema: z.object({ n: z.number() }),
      migrate: { 1: (old: { m: number }) => ({ n: old.m }) },
    });
    expect(migratePayload(sync, 1, { m: 1 }), 'sync migrations stay synchronous (no promise per job)').toEqual({ n: 1 });
  });

  it('an async migration that rejects dead-letters the job invalid-payload with its own error, not a schema complaint', async () => {
    const adapter = inTestAdapter();
    const queue = 'q-async-migrate-fails';
    const broken = defineJob({
      type: 'mail',
      version: 2,
      schema: z.object({ to: z.string(), locale: z.string() }),
      migrate: {
        1: async () => {
          throw new Error('no locale table for this tenant');
        },
      },
    });
    const jobs = createQueue({ adapter, queue });
    await jobs.enqueue(v1, { to: 'x@example.com' });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    worker.handle(broken, () => {});
    await worker.start();
    await until('the dead letter', async () => (await jobs.deadLetters.list()).items.length > 0);
    await worker.stop();
    const [dead] = (await jobs.deadLetters.list()).items;
    expect(`${dead?.reason}: ${dead?.error?.message}`, 'the dead letter of a migration that rejected').toBe(
      'invalid-payload: no locale table for this tenant',
    );
    await adapter.close();
  });
});

describe('options that were not typed errors, or were silently ignored', () => {
  it('missingQueue that cannot be printed as JSON (a BigInt, a cycle) is INVALID_ARGUMENT, not a TypeError', async () => {
    const adapter = inTestAdapter();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(
      await outcomeOf(() => createQueue({ adapter, queue: 'q-missing', missingQueue: 1n as never })),
      'createQueue missingQueue: 1n',
    ).toBe('INVALID_ARGUMENT: missingQueue must be "create" or "fail", got 1n');
    expect(
      await outcomeOf(() => createWorker({ adapter, queue: 'q-missing', missingQueue: cycle as never })),
      'createWorker missingQueue: a cyclic object',
    ).toBe('INVALID_ARGUMENT: missingQueue must be "create" or "fail", got an object');
    expect(await outcomeOf(() => createQueue({ adapter, queue: 'q-missing', missingQueue: 'fial' as never })), 'a typo').toBe(
      'INVALID_ARGUMENT: missingQueue must be "create" or "fail", got "fial"',
    );
  });

  it('defineJob retry that is not a plain object, has an unknown name or a value of the wrong type is INVALID_JOB_DEFINITION', async () => {
    const make = (retry: unknown) => () => defineJob({ type: 'a', schema: z.object({}), retry: retry as never });
    const cases: [unknown, string][] = [
      [
        'aggressive',
        'INVALID_JOB_DEFINITION: job "a": retry must be a plain object { maxAttempts, backoff, baseMs, maxMs, jitter }, got "aggressive"',
      ],
      [5, 'INVALID_JOB_DEFINITION: job "a": retry must be a plain object { maxAttempts, backoff, baseMs, maxMs, jitter }, got 5'],
      [
        null,
        'INVALID_JOB_DEFINITION: job "a": retry must be a plain object { maxAttempts, backoff, baseMs, maxMs, jitter }, got null',
      ],
      [
        [3],
        'INVALID_JOB_DEFINITION: job "a": retry must be a plain object { maxAttempts, backoff, baseMs, maxMs, jitter }, got an array',
      ],
      [
        new Map([['maxAttempts', 3]]),
        'INVALID_JOB_DEFINITION: job "a": retry must be a plain object { maxAttempts, backoff, baseMs, maxMs, jitter }, got a Map',
      ],
      [
        { maxAttempt: 3 },
        'INVALID_JOB_DEFINITION: job "a": retry has no option "maxAttempt" (maxAttempts, backoff, baseMs, maxMs, jitter)',
      ],
      [
        { baseMs: 0, maxMs: null },
        'INVALID_JOB_DEFINITION: job "a": retry: maxMs must be a number of milliseconds ≥ baseMs (0), got null',
      ],
      [
        { maxMs: '60000' },
        'INVALID_JOB_DEFINITION: job "a": retry: maxMs must be a number of milliseconds ≥ baseMs (1000), got "60000"',
      ],
      [{ maxAttempts: '3' }, 'INVALID_JOB_DEFINITION: job "a": retry: maxAttempts must be an integer ≥ 1, got "3"'],
    ];
    for (const [retry, expected] of cases) {
      expect(
        await outcomeOf(make(retry)),
        `defineJob({ retry: ${retry instanceof Map ? 'a Map' : JSON.stringify(retry)} })`,
      ).toBe(expected);
    }
    expect(
      defineJob({ type: 'a', schema: z.object({}), retry: { maxAttempts: undefined, baseMs: 10 } }).retry,
      'an option given as undefined takes its default',
    ).toEqual({ maxAttempts: 10, backoff: 'exponential', baseMs: 10, maxMs: 600_000, jitter: 'full' });
    expect(
      defineJob({ type: 'a', schema: z.object({}), retry: Object.assign(Object.create(null), { maxAttempts: 3 }) }).retry
        .maxAttempts,
      'a null-prototype record is a plain object',
    ).toBe(3);
  });
});

describe('job types with control characters (bgctl printed them raw to the terminal)', () => {
  it.each(['evil\u001b]0;pwned\u0007', 'tab\there', 'c1\u009bx', 'del\u007f'])(
    'defineJob({ type: %j }) is INVALID_JOB_DEFINITION, and the message shows the type escaped',
    (type) => {
      let error: unknown;
      try {
        defineJob({ type, schema: z.object({}) });
      } catch (caught) {
        error = caught;
      }
      expect(isBgError(error, 'INVALID_JOB_DEFINITION'), `defineJob({ type: ${JSON.stringify(type)} }): ${String(error)}`).toBe(
        true,
      );
      const message = (error as Error).message;
      expect(message).toContain('control characters');
      expect(
        [...message].some(
          (ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ((ch.codePointAt(0) ?? 0) >= 0x7f && (ch.codePointAt(0) ?? 0) <= 0x9f),
        ),
        `the message must hold no raw control character: ${JSON.stringify(message)}`,
      ).toBe(false);
    },
  );

  it('ordinary types with dots, dashes and non-ASCII letters are accepted', () => {
    for (const type of ['email.welcome', 'billing-v2:charge', 'rechnung.prüfen', '通知.送信']) {
      expect(defineJob({ type, schema: z.object({}) }).type).toBe(type);
    }
  });
});
