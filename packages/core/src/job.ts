import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type RetryPolicy, resolveRetryPolicy } from './backoff.js';
import { BgError } from './errors.js';
import { describeValue, MAX_TIMER_MS } from './option-checks.js';

/** A migration from version k to version k + 1 of a job's payload. */
export type Migration = (previous: never) => unknown;

/** What {@link defineJob} takes. */
export interface JobOptions<TType extends string, TSchema extends StandardSchemaV1> {
  /** Stable job type name stored in every envelope, e.g. `email.welcome`. */
  readonly type: TType;
  /** Current payload version (positive integer, default 1). Producers always write it. */
  readonly version?: number;
  /** Payload schema of the current version: any Standard Schema (zod, valibot, arktype …). */
  readonly schema: TSchema;
  /**
   * `migrate[k]` upgrades a version-k payload to version k + 1. Every older version
   * 1 … version − 1 needs one, so any queued job can be brought to the current shape.
   */
  readonly migrate?: Readonly<Record<number, (previous: any) => unknown>>;
  /** Retry policy; defaults in {@link DEFAULT_RETRY_POLICY}. */
  readonly retry?: Partial<RetryPolicy>;
  /** Handler time limit in ms; the handler's signal aborts and the attempt fails retryably. */
  readonly timeoutMs?: number;
}

const JOB_MARKER = Symbol.for('bg.job');

/** A job definition: the typed link between producers and handlers. */
export interface JobDefinition<TType extends string = string, TInput = unknown, TOutput = unknown> {
  readonly type: TType;
  readonly version: number;
  readonly schema: StandardSchemaV1<TInput, TOutput>;
  readonly migrations: ReadonlyMap<number, (previous: unknown) => unknown>;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | undefined;
  /** Phantom field carrying the payload types for inference. */
  readonly '~types'?: { input: TInput; output: TOutput };
  readonly [JOB_MARKER]: true;
}

/** The payload a producer passes for a job definition. */
export type JobInput<J> = J extends JobDefinition<string, infer I, unknown> ? I : never;
/** The payload a handler receives for a job definition. */
export type JobPayload<J> = J extends JobDefinition<string, unknown, infer O> ? O : never;

/**
 * Defines a job type: its payload schema, current version, migrations from older
 * versions, retry policy and timeout.
 *
 * @example
 * ```ts
 * const sendWelcome = defineJob({
 *   type: 'email.welcome',
 *   version: 2,
 *   schema: z.object({ userId: z.string(), locale: z.string() }),
 *   migrate: { 1: (old: { userId: string }) => ({ userId: old.userId, locale: 'en' }) },
 *   retry: { maxAttempts: 8 },
 * })
 * ```
 */
export function defineJob<const TType extends string, TSchema extends StandardSchemaV1>(
  options: JobOptions<TType, TSchema>,
): JobDefinition<TType, StandardSchemaV1.InferInput<TSchema>, StandardSchemaV1.InferOutput<TSchema>> {
  if (typeof options !== 'object' || options === null) {
    throw new BgError('INVALID_JOB_DEFINITION', 'defineJob needs options { type, schema, … }');
  }
  const version = options.version ?? 1;
  const fail = (why: string): never => {
    throw new BgError('INVALID_JOB_DEFINITION', `job "${String(options.type)}": ${why}`);
  };
  if (typeof options.type !== 'string' || options.type.length === 0 || options.type.length > 200) {
    fail('type must be a non-empty string of at most 200 characters');
  }
  if (!Number.isInteger(version) || version < 1) fail(`version must be a positive integer, got ${version}`);
  // An ArkType type is a function carrying `~standard`: schemas may be objects or functions.
  const schema = options.schema as unknown;
  const standard =
    (typeof schema === 'object' && schema !== null) || typeof schema === 'function'
      ? (schema as { '~standard'?: { validate?: unknown } })['~standard']
      : undefined;
  if (typeof standard !== 'object' || standard === null || typeof standard.validate !== 'function') {
    fail('schema must implement Standard Schema (zod ≥ 3.24, valibot ≥ 1, arktype ≥ 2 …)');
  }
  const migrations = new Map<number, (previous: unknown) => unknown>();
  for (const [key, fn] of Object.entries(options.migrate ?? {})) {
    const from = Number(key);
    if (!Number.isInteger(from) || from < 1 || from >= version) {
      fail(`migrate[${key}] must upgrade a version between 1 and ${version - 1}`);
    }
    if (typeof fn !== 'function') fail(`migrate[${key}] must be a function`);
    migrations.set(from, fn as (previous: unknown) => unknown);
  }
  for (let from = 1; from < version; from++) {
    if (!migrations.has(from)) fail(`missing migrate[${from}] (version ${from} → ${from + 1})`);
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
    // Past 2³¹ − 1 ms a timer fires at once: every attempt would time out.
    fail(`timeoutMs must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${describeValue(timeoutMs)}`);
  }
  return {
    type: options.type,
    version,
    schema: options.schema as StandardSchemaV1<StandardSchemaV1.InferInput<TSchema>, StandardSchemaV1.InferOutput<TSchema>>,
    migrations,
    retry: resolveRetryPolicy(options.retry, `job "${options.type}"`),
    timeoutMs: options.timeoutMs,
    [JOB_MARKER]: true,
  };
}

/** True for a value made by {@link defineJob} (from any copy of `@bg/core`). */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_MARKER] === true;
}

/**
 * Validates a payload against a job's schema. Resolves with the schema's output or
 * rejects with `INVALID_PAYLOAD` listing the issues.
 */
export async function validatePayload<I, O>(job: JobDefinition<string, I, O>, payload: unknown): Promise<O> {
  return checkPayload(job, payload);
}

/**
 * {@link validatePayload} without a promise when the schema validates synchronously (the
 * worker's hot path): the value, a promise of it for an async schema, or a thrown
 * `INVALID_PAYLOAD`.
 * @internal
 */
export function checkPayload<I, O>(job: JobDefinition<string, I, O>, payload: unknown): O | Promise<O> {
  const result = job.schema['~standard'].validate(payload);
  return result instanceof Promise ? result.then((r) => payloadOf(job, r)) : payloadOf(job, result);
}

function payloadOf<I, O>(job: JobDefinition<string, I, O>, result: StandardSchemaV1.Result<O>): O {
  if (result.issues) {
    const issues = result.issues.map((issue) => {
      const path = (issue.path ?? [])
        .map((p) => (typeof p === 'object' && p !== null && 'key' in p ? p.key : p))
        .map(String)
        .join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    throw new BgError('INVALID_PAYLOAD', `payload for "${job.type}" v${job.version} is invalid: ${issues.join('; ')}`, {
      details: { issues },
    });
  }
  return result.value;
}

/**
 * Upgrades a payload stored at `fromVersion` to the job's current version by running
 * its migrations in order. Throws `UNKNOWN_VERSION` for versions newer than the job's.
 */
export function migratePayload(job: JobDefinition, fromVersion: number, payload: unknown): unknown {
  if (fromVersion > job.version) {
    throw new BgError('UNKNOWN_VERSION', `"${job.type}" payload v${fromVersion} is newer than v${job.version}`, {
      details: { version: fromVersion, known: job.version },
    });
  }
  let value = payload;
  for (let v = fromVersion; v < job.version; v++) {
    const step = job.migrations.get(v);
    if (!step) throw new BgError('INVALID_JOB_DEFINITION', `"${job.type}" has no migration from v${v}`);
    value = step(value);
  }
  return value;
}
