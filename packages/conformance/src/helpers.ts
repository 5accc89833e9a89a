import { randomBytes } from 'node:crypto';
import { type Adapter, isBgError, type OutgoingMessage, type ReceivedMessage } from '@bg/core';
import type { CaseContext } from './case.js';

/**
 * A unique, portable queue name for a case, at most `maxLength` characters. The random part is
 * never cut (a long prefix is): names must not repeat across runs, since a cloud backend may
 * refuse for a while the name of a queue an earlier run deleted.
 */
export function uniqueQueueName(prefix: string, caseId: string, maxLength = 48): string {
  const slug = caseId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24)
    .replace(/-+$/, '');
  const suffix = `-${randomBytes(4).toString('hex')}`;
  const head = `${prefix}-${slug}`.slice(0, Math.max(1, maxLength - suffix.length)).replace(/-+$/, '');
  return `${head}${suffix}`;
}

let counter = 0;
/** A message with a unique id. */
export function message(body: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  counter++;
  return { id: `conf-${Date.now().toString(36)}-${counter}-${randomBytes(3).toString('hex')}`, body, ...extra };
}

/** Waits for a condition, polling, until the case deadline. */
export async function eventually<T>(
  ctx: CaseContext,
  what: string,
  check: () => Promise<T | undefined>,
  deadlineMs = ctx.timing.deadlineMs,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`conformance: timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, Math.min(50, ctx.timing.pollMs)));
  }
}

/** When the receive call that delivered a message through {@link receiveCount} was sent. */
const receiveSentAt = new WeakMap<ReceivedMessage, number>();

/**
 * The time the receive call that delivered `message` (through {@link receiveCount} or
 * {@link receiveOne}) was sent: its lease began no earlier. A check that a lease did not end too
 * early counts from here, so that a slow answer (a loaded machine) cannot make a punctual
 * backend look early. `Date.now()` for a message these helpers did not receive.
 */
export function leaseStartBound(message: ReceivedMessage): number {
  return receiveSentAt.get(message) ?? Date.now();
}

/**
 * Receives until `count` messages arrived (or the deadline passed) and returns them.
 * Uses long polls of `timing.pollMs`.
 */
export async function receiveCount(
  ctx: CaseContext,
  count: number,
  options: { adapter?: Adapter; queue?: string; leaseMs: number; deadlineMs?: number },
): Promise<ReceivedMessage[]> {
  const adapter = options.adapter ?? ctx.adapter;
  const queue = options.queue ?? ctx.queue;
  const end = Date.now() + (options.deadlineMs ?? ctx.timing.deadlineMs);
  const out: ReceivedMessage[] = [];
  while (out.length < count && Date.now() < end) {
    const max = Math.min(count - out.length, adapter.capabilities.maxBatchSize);
    const sentAt = Date.now();
    const got = await adapter.receive(queue, { max, leaseMs: options.leaseMs, waitMs: ctx.timing.pollMs });
    for (const m of got) if (typeof m === 'object' && m !== null) receiveSentAt.set(m, sentAt);
    out.push(...got);
  }
  return out;
}

/** Receives one message or fails at the deadline. */
export async function receiveOne(
  ctx: CaseContext,
  options: { adapter?: Adapter; queue?: string; leaseMs: number; deadlineMs?: number },
): Promise<ReceivedMessage> {
  const deadline = options.deadlineMs ?? ctx.timing.deadlineMs;
  const queue = options.queue ?? ctx.queue;
  const [first, ...rest] = await receiveCount(ctx, 1, options);
  ctx
    .expect(first, say(`receive(max 1) on queue ${queue}`, `expected a message to be delivered within ${deadline} ms`, 'nothing'))
    .toBeDefined();
  ctx.expect(rest.length, say(`receive(max 1) on queue ${queue}`, 'returns at most max=1 message', `${rest.length + 1}`)).toBe(0);
  return first as ReceivedMessage;
}

/** Watches a queue for `ms` and returns whatever was delivered (the case expects nothing). */
export async function watchQuiet(
  ctx: CaseContext,
  ms: number,
  options: { adapter?: Adapter; queue?: string; leaseMs: number },
): Promise<ReceivedMessage[]> {
  const adapter = options.adapter ?? ctx.adapter;
  const queue = options.queue ?? ctx.queue;
  const end = Date.now() + ms;
  const out: ReceivedMessage[] = [];
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) break;
    out.push(
      ...(await adapter.receive(queue, {
        max: Math.min(10, adapter.capabilities.maxBatchSize),
        leaseMs: options.leaseMs,
        waitMs: Math.min(left, ctx.timing.pollMs),
      })),
    );
    if (out.length > 0) break;
  }
  return out;
}

/**
 * Watches `queue` for deliveries until `notBeforeMs` after `from` (the earliest a delivery may
 * come: a delay's end less `toleranceMs`) and says which of them came early. A receive the watch
 * started in time may come back past the bound (a loaded machine): what it brings is early only
 * when it came back before the bound; later, it is the on-time delivery itself (`watched`, leased
 * by the watch, at `at` ms after `from`). A broken adapter's early delivery ends its long poll at
 * once, so it still comes back before the bound.
 */
export async function watchNotBefore(
  ctx: CaseContext,
  from: number,
  notBeforeMs: number,
  options: { adapter?: Adapter; queue?: string; leaseMs: number },
): Promise<{ watched: ReceivedMessage[]; early: string[]; at: number }> {
  const watched = await watchQuiet(ctx, notBeforeMs - since(from), options);
  const at = since(from);
  return { watched, early: at < notBeforeMs ? watched.map((m) => `${m.id} (${m.body.slice(0, 40)}) after ${at} ms`) : [], at };
}

/**
 * Asserts that a promise rejects with a bg error of `code` (and `retryable`, when given).
 * `call` names the call and `rule` why it must fail, e.g.
 * `expectBgError(ctx, 'ack(stale handle) on queue q', p, 'LEASE_LOST', false, 'after the lease expired')`.
 */
export async function expectBgError(
  ctx: CaseContext,
  call: string,
  promise: Promise<unknown>,
  code: string,
  retryable?: boolean,
  rule = 'the contract requires a typed error here',
): Promise<void> {
  let error: unknown;
  let settled = false;
  try {
    await promise;
    settled = true;
  } catch (caught) {
    error = caught;
  }
  ctx.expect(settled, `${call}: expected BgError ${code} (${rule}), got success`).toBe(false);
  ctx.expect(isBgError(error), `${call}: expected BgError ${code} (${rule}), got ${describeError(error)}`).toBe(true);
  ctx
    .expect((error as { code: string }).code, `${call}: expected BgError ${code} (${rule}), got ${describeError(error)}`)
    .toBe(code);
  if (retryable !== undefined) {
    ctx
      .expect(
        (error as { retryable: boolean }).retryable,
        `${call}: ${code} must have retryable=${retryable}, got ${describeError(error)}`,
      )
      .toBe(retryable);
  }
}

/** Resolves to the error a promise rejects with, or undefined when it resolves. */
export async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error ?? new Error('rejected with nothing');
  }
}

/** A short description of an error for failure messages (`BgError LEASE_LOST (retryable=false): …`). */
export function describeError(error: unknown): string {
  if (error === undefined) return 'success';
  if (isBgError(error)) return `BgError ${error.code} (retryable=${error.retryable}): ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** A value for failure messages: JSON, shortened to `max` characters. */
export function show(value: unknown, max = 200): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/**
 * A failure message naming the call, the rule and the values:
 * `say('receive #2 on queue q', 'returns at most max=3', 'got 4 messages')`.
 */
export function say(call: string, rule: string, got?: string): string {
  return got === undefined ? `${call}: ${rule}` : `${call}: ${rule}; got ${got}`;
}

/** The index of the first difference between two strings, for byte-for-byte failures. */
export function firstDifference(a: string, b: string): string {
  if (a === b) return 'identical';
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const code = (s: string) => (i < s.length ? `U+${(s.codePointAt(i) ?? 0).toString(16).padStart(4, '0')}` : 'end');
  return `lengths ${a.length} vs ${b.length}, first difference at index ${i} (${code(a)} vs ${code(b)})`;
}

/** Milliseconds since `start`. */
export function since(start: number): number {
  return Date.now() - start;
}
