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

/** A job id: 1–256 characters, none of them a control character (spaces and any script are fine). */
export function parseJobId(value: string, field = 'id'): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (value.length < 1 || value.length > 256 || /[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw badInput(`${field}: "${value.slice(0, 60)}" is not a job id`);
  }
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
  const n = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 200)
    throw badInput(`limit: must be an integer from 1 to 200, got "${value.slice(0, 20)}"`);
  return n;
}

/** A position in the dead-letter store: the adapter's page cursor and the last dead letter passed. */
export interface ScanCursor {
  /** The adapter's cursor of the page to read (absent: the first page). */
  readonly page?: string;
  /**
   * The last dead letter already shown or passed over: the page's items up to it (by when they
   * were dead-lettered, then id) are skipped. A position, not a count, so that dead letters
   * purged or replayed meanwhile do not make the next page skip others.
   */
  readonly after?: { readonly deadLetteredAt: number; readonly id: string };
}

/** Encodes a {@link ScanCursor} for a URL. */
export function encodeCursor(cursor: ScanCursor): string {
  return Buffer.from(
    JSON.stringify({
      ...(cursor.page !== undefined ? { c: cursor.page } : {}),
      ...(cursor.after !== undefined ? { t: cursor.after.deadLetteredAt, i: cursor.after.id } : {}),
    }),
  ).toString('base64url');
}

/** Decodes a cursor from {@link encodeCursor}; empty → the start. */
export function decodeCursor(value: string | null): ScanCursor {
  if (value === null || value === '') return {};
  if (value.length > 2_000 || !/^[A-Za-z0-9_-]+$/.test(value)) throw badInput('cursor: not a cursor of this dashboard');
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { c?: unknown; t?: unknown; i?: unknown };
    if (typeof parsed !== 'object' || parsed === null) throw new Error('cursor');
    if (parsed.c !== undefined && typeof parsed.c !== 'string') throw new Error('page');
    const hasAfter = parsed.t !== undefined || parsed.i !== undefined;
    if (
      hasAfter &&
      (typeof parsed.t !== 'number' || !Number.isSafeInteger(parsed.t) || typeof parsed.i !== 'string' || parsed.i.length > 256)
    ) {
      throw new Error('after');
    }
    return {
      ...(parsed.c !== undefined ? { page: parsed.c as string } : {}),
      ...(hasAfter ? { after: { deadLetteredAt: parsed.t as number, id: parsed.i as string } } : {}),
    };
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
