import { randomBytes } from 'node:crypto';
import { type Adapter, isBgError, type OutgoingMessage, type ReceivedMessage } from '@bg/core';
import type { CaseContext } from './case.js';

/** A unique, portable queue name for a case. */
export function uniqueQueueName(prefix: string, caseId: string): string {
  const slug = caseId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24)
    .replace(/-+$/, '');
  return `${prefix}-${slug}-${randomBytes(4).toString('hex')}`.slice(0, 48);
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
    const got = await adapter.receive(queue, { max, leaseMs: options.leaseMs, waitMs: ctx.timing.pollMs });
    out.push(...got);
  }
  return out;
}

/** Receives one message or fails at the deadline. */
export async function receiveOne(
  ctx: CaseContext,
  options: { adapter?: Adapter; queue?: string; leaseMs: number; deadlineMs?: number },
): Promise<ReceivedMessage> {
  const [first, ...rest] = await receiveCount(ctx, 1, options);
  ctx.expect(first, 'expected a message to be delivered before the deadline').toBeDefined();
  ctx.expect(rest).toHaveLength(0);
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

/** Asserts that a promise rejects with a bg error of `code` (and `retryable`, when given). */
export async function expectBgError(
  ctx: CaseContext,
  promise: Promise<unknown>,
  code: string,
  retryable?: boolean,
): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  ctx.expect(error, `expected a BgError ${code}, but the call succeeded`).toBeDefined();
  ctx.expect(isBgError(error), `expected a BgError ${code}, got ${String(error)}`).toBe(true);
  ctx.expect((error as { code: string }).code, String(error)).toBe(code);
  if (retryable !== undefined) ctx.expect((error as { retryable: boolean }).retryable, `retryable of ${code}`).toBe(retryable);
}

/** Milliseconds since `start`. */
export function since(start: number): number {
  return Date.now() - start;
}
