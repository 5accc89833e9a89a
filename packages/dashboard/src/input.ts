import { BgError, DEAD_LETTER_REASONS, type DeadLetterFilter, type DeadLetterReason, QUEUE_NAME_PATTERN } from '@bg/core';

/** A bad request parameter: a typed `INVALID_ARGUMENT` error, answered with 400 and its message. */
export function badInput(message: string): BgError {
  return new BgError('INVALID_ARGUMENT', message);
}

/** A queue name from the URL, checked against {@link QUEUE_NAME_PATTERN}. */
export function parseQueueName(value: string): string {
  if (!QUEUE_NAME_PATTERN.test(value))
    throw badInput(`queue: "${value.slice(0, 60)}" is not a queue name (3–48 lowercase letters, digits, single hyphens)`);
  return value;
}

/** A job id: 1–256 printable ASCII characters without spaces. */
export function parseJobId(value: string, field = 'id'): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(value)) throw badInput(`${field}: "${value.slice(0, 60)}" is not a job id`);
  return value;
}

/** A duration such as `90s`, `15m`, `2h`, `7d` → ms. Empty → undefined. */
export function parseAge(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const m = /^(\d{1,6})\s*(s|m|h|d)$/.exec(value.trim());
  if (!m) throw badInput(`${field}: "${value.slice(0, 40)}" is not a duration (e.g. 30s, 15m, 2h, 7d)`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** The filter fields as given (for links and forms). */
export interface DeadFilterFields {
  readonly reason: string;
  readonly type: string;
  readonly older: string;
  readonly newer: string;
  readonly text: string;
}

function shortText(value: string | undefined, field: string): string {
  const text = (value ?? '').trim();
  if (text.length > 200) throw badInput(`${field}: at most 200 characters, got ${text.length}`);
  if ([...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw badInput(`${field}: control characters are not allowed`);
  return text;
}

/** Reads and checks the filter fields of a query string or form. */
export function parseDeadFilter(params: URLSearchParams): { filter: DeadLetterFilter; fields: DeadFilterFields } {
  const reason = shortText(params.get('reason') ?? undefined, 'reason');
  if (reason !== '' && !(DEAD_LETTER_REASONS as readonly string[]).includes(reason))
    throw badInput(`reason: "${reason}" is not one of ${DEAD_LETTER_REASONS.join(', ')}`);
  const type = shortText(params.get('type') ?? undefined, 'type');
  const text = shortText(params.get('text') ?? undefined, 'error text');
  const older = shortText(params.get('older') ?? undefined, 'older than');
  const newer = shortText(params.get('newer') ?? undefined, 'newer than');
  const olderThanMs = parseAge(older, 'older than');
  const newerThanMs = parseAge(newer, 'newer than');
  const filter: DeadLetterFilter = {
    ...(reason ? { reasons: [reason as DeadLetterReason] } : {}),
    ...(type ? { types: [type] } : {}),
    ...(text ? { text } : {}),
    ...(olderThanMs !== undefined ? { olderThanMs } : {}),
    ...(newerThanMs !== undefined ? { newerThanMs } : {}),
  };
  return { filter, fields: { reason, type, older, newer, text } };
}

/** Page size: an integer 1–200 (default 50). */
export function parseLimit(value: string | null): number {
  if (value === null || value === '') return 50;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 200)
    throw badInput(`limit: must be an integer from 1 to 200, got "${value.slice(0, 20)}"`);
  return n;
}

/** A position in the dead-letter store: the adapter's page cursor and how many of that page to skip. */
export interface ScanCursor {
  readonly page?: string;
  readonly skip: number;
}

/** Encodes a {@link ScanCursor} for a URL. */
export function encodeCursor(cursor: ScanCursor): string {
  return Buffer.from(
    JSON.stringify(cursor.page === undefined ? { s: cursor.skip } : { c: cursor.page, s: cursor.skip }),
  ).toString('base64url');
}

/** Decodes a cursor from {@link encodeCursor}; empty → the start. */
export function decodeCursor(value: string | null): ScanCursor {
  if (value === null || value === '') return { skip: 0 };
  if (value.length > 2_000 || !/^[A-Za-z0-9_-]+$/.test(value)) throw badInput('cursor: not a cursor of this dashboard');
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { c?: unknown; s?: unknown };
    const skip = parsed.s;
    if (typeof skip !== 'number' || !Number.isInteger(skip) || skip < 0 || skip > 10_000) throw new Error('skip');
    if (parsed.c !== undefined && typeof parsed.c !== 'string') throw new Error('page');
    return parsed.c === undefined ? { skip } : { page: parsed.c, skip };
  } catch {
    throw badInput('cursor: not a cursor of this dashboard');
  }
}

/** Reads `application/x-www-form-urlencoded` text; anything else is refused. */
export function parseForm(contentType: string | undefined, body: string): URLSearchParams {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw badInput(`content-type: forms must be application/x-www-form-urlencoded, got "${(type ?? '').slice(0, 60)}"`);
  return new URLSearchParams(body);
}
