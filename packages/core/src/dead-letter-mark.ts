import { MAX_ATTEMPTS_VALUE } from './adapter/receive-checks.js';
import { DEAD_LETTER_REASONS, type DeadLetterInfo, type DeadLetterReason, type ErrorInfo } from './adapter.js';
import { MAX_ENVELOPE_TIME_MS } from './envelope.js';
import { DEAD_LETTER_ATTRIBUTE } from './message-attributes.js';
import { redactText } from './redact.js';

/**
 * The `bg-dead-letter` marker: a dead letter in transit through a live queue (`bgctl move
 * --dead` onto an adapter that cannot import dead letters sends each one as a live message,
 * leases it back and dead-letters it). The marker carries the dead-letter record (reason,
 * attempts, timestamps, the error cut to fit) as JSON, so that any worker that receives the
 * message dead-letters it at once with that record instead of running it, and a move killed
 * half-way leaves nothing runnable behind. Pure: no I/O.
 * @module
 */

/**
 * Most bytes of a marker's value: Pub/Sub's limit for one attribute value (1 024 bytes), the
 * smallest of every backend. A marker is pure ASCII (every other character escaped), so its
 * bytes are its length.
 */
export const MAX_DEAD_LETTER_MARK_BYTES = 1_024;

/** The marker format's version (`v` in its JSON). */
const MARK_VERSION = 1;
/** An error's name and code are short by nature: each is cut to this many characters in a marker. */
const MAX_MARK_NAME = 100;

/** What a delivery's `bg-dead-letter` attribute says: the record to dead-letter it with, or why it cannot be read. */
export type DeadLetterMark =
  | { readonly valid: true; readonly info: DeadLetterInfo }
  | { readonly valid: false; readonly problem: string };

/** JSON text with every character outside printable ASCII escaped (`\uXXXX`): safe in any backend's attribute. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\u0020-\u007e]/g, (c) => `\\u${(c.charCodeAt(0) + 0x10000).toString(16).slice(1)}`);
}

/** `text` without a lone surrogate at its end (a cut in the middle of a character pair). */
function cutAt(text: string, length: number): string {
  let end = Math.max(0, Math.min(text.length, length));
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end);
}

/**
 * Encodes `info` as a marker value of at most `maxBytes` (default
 * {@link MAX_DEAD_LETTER_MARK_BYTES}): the reason, attempts and timestamps whole; of the error,
 * the name and code cut to 100 characters, the stack dropped when it does not fit, then the
 * message cut (ending in `…`) until the whole fits. `info` is taken as given (the caller's own
 * dead letter).
 *
 * @example
 * ```ts
 * attributes[DEAD_LETTER_ATTRIBUTE] = encodeDeadLetterMark({ reason: 'max-attempts', attempts: 5, deadLetteredAt: Date.now() })
 * ```
 */
export function encodeDeadLetterMark(info: DeadLetterInfo, maxBytes: number = MAX_DEAD_LETTER_MARK_BYTES): string {
  const base = {
    v: MARK_VERSION,
    reason: info.reason,
    attempts: info.attempts,
    ...(info.enqueuedAt !== undefined ? { enqueuedAt: info.enqueuedAt } : {}),
    deadLetteredAt: info.deadLetteredAt,
  };
  const plain = asciiJson(base);
  if (plain.length > maxBytes) {
    throw new RangeError(`a dead-letter marker needs more than ${maxBytes} bytes even without its error`);
  }
  if (info.error === undefined) return plain;
  const { message, name, code, stack } = info.error;
  const error: { message: string; name?: string; code?: string; stack?: string } = { message };
  if (name !== undefined) error.name = cutAt(name, MAX_MARK_NAME);
  if (code !== undefined) error.code = cutAt(code, MAX_MARK_NAME);
  if (stack !== undefined) error.stack = stack;
  let text = asciiJson({ ...base, error });
  if (text.length <= maxBytes) return text;
  delete error.stack;
  text = asciiJson({ ...base, error });
  if (text.length <= maxBytes) return text;
  // The longest head of the message that fits (every character takes at least one byte of the
  // text, so no more than `maxBytes` of them can): a binary search over its length.
  const withHead = (length: number): string => asciiJson({ ...base, error: { ...error, message: `${cutAt(message, length)}…` } });
  let low = 0;
  let high = Math.min(message.length, maxBytes);
  if (withHead(low).length > maxBytes) return plain; // a name and code that leave no room: no error
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (withHead(mid).length <= maxBytes) low = mid;
    else high = mid - 1;
  }
  return withHead(low);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_ENVELOPE_TIME_MS;
}

const MARK_KEYS: ReadonlySet<string> = new Set(['v', 'reason', 'attempts', 'enqueuedAt', 'deadLetteredAt', 'error']);
const ERROR_KEYS: ReadonlySet<string> = new Set(['message', 'name', 'code', 'stack']);

/** The first key of `value` not in `known`, if any. */
function unknownKey(value: Record<string, unknown>, known: ReadonlySet<string>): string | undefined {
  return Object.keys(value).find((key) => !known.has(key));
}

/** The marker's `error`, checked field by field (each string redacted: the marker is untrusted text). */
function readError(value: unknown): ErrorInfo | string {
  if (!isObject(value)) return '"error" is not an object';
  const extra = unknownKey(value, ERROR_KEYS);
  if (extra !== undefined) return `"error" has an unknown field "${extra.slice(0, 40)}"`;
  if (typeof value.message !== 'string') return '"error.message" is not a string';
  const error: { message: string; name?: string; code?: string; stack?: string } = { message: redactText(value.message) };
  for (const field of ['name', 'code', 'stack'] as const) {
    const text = value[field];
    if (text === undefined) continue;
    if (typeof text !== 'string') return `"error.${field}" is not a string`;
    error[field] = redactText(text);
  }
  return error;
}

/**
 * Reads a `bg-dead-letter` attribute as untrusted input: at most
 * {@link MAX_DEAD_LETTER_MARK_BYTES} characters of JSON (parsed, never evaluated), an object of
 * exactly the marker's fields: `v` 1, a known `reason`, `attempts` an integer from 0 to `MAX_ATTEMPTS_VALUE`,
 * `deadLetteredAt` (and `enqueuedAt`, if any) epoch ms, `error` (if any) `{ message, name?,
 * code?, stack? }` of strings. Anything else is `valid: false` with the problem: the worker
 * dead-letters such a delivery `malformed-envelope`, and never runs it.
 */
export function readDeadLetterMark(value: string): DeadLetterMark {
  const invalid = (problem: string): DeadLetterMark => ({ valid: false, problem });
  if (value.length > MAX_DEAD_LETTER_MARK_BYTES) return invalid(`longer than ${MAX_DEAD_LETTER_MARK_BYTES} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return invalid('not JSON');
  }
  if (!isObject(parsed)) return invalid('not a JSON object');
  const extra = unknownKey(parsed, MARK_KEYS);
  if (extra !== undefined) return invalid(`unknown field "${extra.slice(0, 40)}"`);
  if (parsed.v !== MARK_VERSION) return invalid(`"v" is not ${MARK_VERSION}`);
  const { reason, attempts, enqueuedAt, deadLetteredAt } = parsed;
  if (typeof reason !== 'string' || !DEAD_LETTER_REASONS.includes(reason as DeadLetterReason)) {
    return invalid('"reason" is not a dead-letter reason');
  }
  if (typeof attempts !== 'number' || !Number.isSafeInteger(attempts) || attempts < 0 || attempts > MAX_ATTEMPTS_VALUE) {
    return invalid(`"attempts" is not an integer from 0 to ${MAX_ATTEMPTS_VALUE}`);
  }
  if (!isTime(deadLetteredAt)) return invalid('"deadLetteredAt" is not a time in epoch ms');
  if (enqueuedAt !== undefined && !isTime(enqueuedAt)) return invalid('"enqueuedAt" is not a time in epoch ms');
  let error: ErrorInfo | undefined;
  if (parsed.error !== undefined) {
    const read = readError(parsed.error);
    if (typeof read === 'string') return invalid(read);
    error = read;
  }
  return {
    valid: true,
    info: {
      reason: reason as DeadLetterReason,
      attempts,
      ...(error !== undefined ? { error } : {}),
      ...(enqueuedAt !== undefined ? { enqueuedAt } : {}),
      deadLetteredAt,
    },
  };
}

/** The marker of a delivery's attributes, read ({@link readDeadLetterMark}); undefined when it has none. */
export function deadLetterMarkOf(attributes: Readonly<Record<string, string>>): DeadLetterMark | undefined {
  // An own property only: a name inherited from Object.prototype is no attribute.
  if (!Object.hasOwn(attributes, DEAD_LETTER_ATTRIBUTE)) return undefined;
  const value = attributes[DEAD_LETTER_ATTRIBUTE];
  return readDeadLetterMark(typeof value === 'string' ? value : '');
}

/**
 * `attributes` without the marker (a copy; the same object when it has none): what a dead
 * letter stores, so that a replay puts the job back runnable.
 */
export function withoutDeadLetterMark(attributes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (!Object.hasOwn(attributes, DEAD_LETTER_ATTRIBUTE)) return attributes;
  const copy: Record<string, string> = { ...attributes };
  delete copy[DEAD_LETTER_ATTRIBUTE];
  return copy;
}
