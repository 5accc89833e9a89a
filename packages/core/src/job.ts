import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type RetryPolicy, resolveRetryPolicy } from './backoff.js';
import { BgError } from './errors.js';
import { bounded, describeValue, MAX_TIMER_MS } from './option-checks.js';
import { isSecretName, REDACTED } from './redact.js';
import { hasControlCharacter } from './text-checks.js';

/** A migration from version k to version k + 1 of a job's payload: the new payload, or a promise of it. */
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
   * `migrate[k]` upgrades a version-k payload to version k + 1 (it may be async). Every older
   * version 1 … version − 1 needs one, so any queued job can be brought to the current shape.
   * A step that throws or rejects dead-letters the job `invalid-payload` with its error.
   */
  readonly migrate?: Readonly<Record<number, (previous: any) => unknown>>;
  /** Retry policy; defaults in {@link DEFAULT_RETRY_POLICY}. */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * Handler time limit in ms; the handler's signal aborts and the attempt fails retryably. A
   * handler that ignores its signal keeps its `concurrency` slot until it returns (or until a
   * stop's grace period ends): the worker never runs more handlers at once than its concurrency.
   */
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
  // Quoted with every control character as an escape (`\u001b`), never raw to a terminal.
  const shown = typeof options.type === 'string' ? quoted(options.type) : `"${String(options.type)}"`;
  const fail = (why: string): never => {
    throw new BgError('INVALID_JOB_DEFINITION', `job ${shown}: ${why}`);
  };
  if (typeof options.type !== 'string' || options.type.length === 0 || options.type.length > 200) {
    fail('type must be a non-empty string of at most 200 characters');
  }
  if (hasControlCharacter(options.type as string)) {
    fail('type must not contain control characters (it is printed by bgctl, the dashboard and logs)');
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
 * rejects with `INVALID_PAYLOAD` listing the issues. Takes {@link migratePayload}'s result
 * as it is, a promise included (an async migration).
 */
export async function validatePayload<I, O>(job: JobDefinition<string, I, O>, payload: unknown): Promise<O> {
  return checkPayload(job, payload);
}

/**
 * {@link validatePayload} without a promise when the schema validates synchronously (the
 * worker's hot path): the value, a promise of it for an async schema or migration, or a
 * thrown `INVALID_PAYLOAD`.
 * @internal
 */
export function checkPayload<I, O>(job: JobDefinition<string, I, O>, payload: unknown): O | Promise<O> {
  // A payload is JSON, never a promise: this one is an async migration still running.
  if (payload instanceof Promise && MIGRATING.has(payload)) return payload.then((migrated) => checkPayload(job, migrated));
  const result = job.schema['~standard'].validate(payload);
  return result instanceof Promise ? result.then((r) => payloadOf(job, r, payload)) : payloadOf(job, result, payload);
}

/** At most this many characters of one issue's text reach the error (a schema may quote a whole received value). */
const MAX_ISSUE_TEXT = 300;
/** At most this many issues are listed (a payload of 100 000 bad items has as many issues). */
const MAX_ISSUES = 100;
/** What replaces the text of an issue on a secret field: schemas quote the value they received. */
const WITHHELD = `${REDACTED} (invalid; the schema’s message is withheld: the field holds a secret)`;

function payloadOf<I, O>(job: JobDefinition<string, I, O>, result: StandardSchemaV1.Result<O>, payload: unknown): O {
  if (result.issues) {
    const secrets = secretValues(payload);
    const issues = result.issues.slice(0, MAX_ISSUES).map((issue) => issueText(issue, secrets));
    if (result.issues.length > MAX_ISSUES) issues.push(`… and ${result.issues.length - MAX_ISSUES} more issues`);
    throw new BgError('INVALID_PAYLOAD', `payload for "${job.type}" v${job.version} is invalid: ${issues.join('; ')}`, {
      details: { issues },
    });
  }
  return result.value;
}

/**
 * One issue as `path: message`. Schema libraries quote the value they received (valibot's
 * `… but received "sk_live_…"`, arktype's `(was "…")`): the text of an issue whose path names
 * a secret (`apiKey`, `credentials.value`, `headers.x-api-key`) is withheld whole, and any
 * value held under a secret field is masked wherever another issue quotes it.
 */
function issueText(issue: StandardSchemaV1.Issue, secrets: readonly string[]): string {
  const segments = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null && 'key' in p ? p.key : p));
  const path = segments.join('.');
  if (segments.some(isSecretName)) return `${path}: ${WITHHELD}`;
  let message = typeof issue.message === 'string' ? issue.message : String(issue.message);
  for (const secret of secrets) message = message.replaceAll(secret, REDACTED);
  message = bounded(message, MAX_ISSUE_TEXT);
  return path ? `${path}: ${message}` : message;
}

/** Shortest value {@link secretValues} masks in issue texts (a shorter one would mask common words). */
const MIN_SECRET_LENGTH = 4;

/**
 * The strings and numbers held under secret-named fields of `payload` (a secret object's every
 * value), longest first; bounded in depth and in the number of values looked at.
 */
function secretValues(payload: unknown): string[] {
  const found = new Set<string>();
  let budget = 10_000;
  const visit = (value: unknown, secret: boolean, depth: number): void => {
    if (budget-- <= 0 || depth > 32) return;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
      const text = String(value);
      if (secret && text.length >= MIN_SECRET_LENGTH) found.add(text);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, secret, depth + 1);
      return;
    }
    for (const [name, field] of Object.entries(value)) visit(field, secret || isSecretName(name), depth + 1);
  };
  try {
    visit(payload, false, 0);
  } catch {
    // a getter that throws (a payload from plain JavaScript): mask what was found so far
  }
  return [...found].sort((a, b) => b.length - a.length);
}

/** Promises of {@link migratePayload} (an async step): {@link checkPayload} waits for them. */
const MIGRATING = new WeakSet<Promise<unknown>>();

/**
 * Upgrades a payload stored at `fromVersion` to the job's current version by running
 * its migrations in order. Throws `UNKNOWN_VERSION` for versions newer than the job's.
 * Synchronous migrations give the upgraded payload; once a step returns a promise (an async
 * migration), the result is a promise of it, which {@link validatePayload} (and the worker)
 * waits for.
 */
export function migratePayload(job: JobDefinition, fromVersion: number, payload: unknown): unknown {
  if (fromVersion > job.version) {
    throw new BgError('UNKNOWN_VERSION', `"${job.type}" payload v${fromVersion} is newer than v${job.version}`, {
      details: { version: fromVersion, known: job.version },
    });
  }
  let value = payload;
  for (let v = fromVersion; v < job.version; v++) {
    value = migrationStep(job, v)(value);
    if (isThenable(value)) {
      const pending = finishMigration(job, v + 1, value);
      MIGRATING.add(pending);
      return pending;
    }
  }
  return value;
}

/** The rest of a migration once a step returned a promise: each step from `from` on, awaited in turn. */
async function finishMigration(job: JobDefinition, from: number, pending: PromiseLike<unknown>): Promise<unknown> {
  let value = await pending;
  for (let v = from; v < job.version; v++) value = await migrationStep(job, v)(value);
  return value;
}

function migrationStep(job: JobDefinition, from: number): (previous: unknown) => unknown {
  const step = job.migrations.get(from);
  if (!step) throw new BgError('INVALID_JOB_DEFINITION', `"${job.type}" has no migration from v${from}`);
  return step;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** `text` in JSON quotes, with DEL and C1 control characters escaped too (JSON leaves them raw). */
function quoted(text: string): string {
  let out = JSON.stringify(text);
  if (hasControlCharacter(out)) {
    out = [...out]
      .map((ch) => (hasControlCharacter(ch) ? `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}` : ch))
      .join('');
  }
  return out;
}
