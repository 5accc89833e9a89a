import { z } from 'zod';
import { BgError } from './errors.js';
import { assertJsonValue, type JsonValue } from './json-value.js';
import { bounded } from './option-checks.js';
import { isUuid, UUID_PATTERN } from './uuid-v7.js';

/** The envelope format version this build writes and reads. */
export const ENVELOPE_FORMAT_VERSION = 1 as const;

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number().finite(), z.string(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

/**
 * The zod schema of envelope v1: what is stored in a queue. Plain JSON only — never code,
 * never classes. Unknown fields are rejected so a newer format is never half-read.
 */
export const envelopeSchema = z
  .object({
    /** Envelope format version. */
    bg: z.literal(ENVELOPE_FORMAT_VERSION),
    /** Job id, a UUIDv7. */
    id: z.string().regex(UUID_PATTERN),
    /** Job type, e.g. `email.welcome`. */
    type: z.string().min(1).max(200),
    /** Payload schema version (positive integer). */
    v: z.number().int().positive(),
    /** The payload, plain JSON. */
    payload: jsonValue,
    /** Creation time, ISO 8601. */
    createdAt: z.iso.datetime(),
    /** Do not run before this time, ISO 8601 (delays longer than the backend allows). */
    notBefore: z.iso.datetime().optional(),
    /** Caller-chosen idempotency key. */
    key: z.string().min(1).max(512).optional(),
    /** W3C trace context. */
    trace: z
      .object({ traceparent: z.string().max(512), tracestate: z.string().max(2048).optional() })
      .strict()
      .optional(),
    /** String metadata. */
    meta: z.record(z.string().max(256), z.string().max(4096)).optional(),
  })
  .strict();

/** A decoded envelope v1. */
export type Envelope = z.infer<typeof envelopeSchema>;

/**
 * The last instant an envelope's ISO dates (`createdAt`, `notBefore`) can hold,
 * 9999-12-31T23:59:59.999Z: no job can be due later.
 */
export const MAX_ENVELOPE_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
/** Whether `key` is a field of envelope v1 (a switch: no hashing per key and job). */
function isEnvelopeKey(key: string): boolean {
  switch (key) {
    case 'bg':
    case 'id':
    case 'type':
    case 'v':
    case 'payload':
    case 'createdAt':
    case 'notBefore':
    case 'key':
    case 'trace':
    case 'meta':
      return true;
    default:
      return false;
  }
}

/** The last timestamp {@link isDatetime} accepted: jobs enqueued together share their `createdAt`. */
let lastDatetime = '';

function isDatetime(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value === lastDatetime) return true;
  if (!ISO_DATETIME.test(value) || Number.isNaN(Date.parse(value))) return false;
  lastDatetime = value;
  return true;
}

/**
 * Whether `value` is a time as envelope v1 stores it (ISO 8601, UTC, e.g. `createdAt`).
 * @internal
 */
export function isIsoDatetime(value: string): boolean {
  return isDatetime(value);
}

function isStringRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const [k, v] of Object.entries(value)) if (k.length > 256 || typeof v !== 'string' || v.length > 4096) return false;
  return true;
}

/**
 * Whether `value` is an envelope's `trace` field as v1 allows it: `traceparent` (a string of at
 * most 512 characters) and an optional `tracestate` (at most 2 048), nothing else.
 * @internal
 */
export function isTraceCarrier(value: unknown): boolean {
  if (!isStringRecord(value)) return false;
  const t = value as Record<string, unknown>;
  for (const key in t) if (key !== 'traceparent' && key !== 'tracestate') return false;
  if (typeof t.traceparent !== 'string' || t.traceparent.length > 512) return false;
  if (t.tracestate !== undefined && (t.tracestate as string).length > 2048) return false;
  return true;
}

/**
 * The hot-path check of envelope v1: the same rules as {@link envelopeSchema} for values
 * that came out of `JSON.parse` (so the payload is JSON by construction). The zod schema
 * runs only to explain a failure.
 */
function isEnvelope(raw: unknown): raw is Envelope {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const e = raw as Record<string, unknown>;
  for (const key in e) if (!isEnvelopeKey(key)) return false;
  if (e.bg !== ENVELOPE_FORMAT_VERSION) return false;
  if (typeof e.id !== 'string' || !isUuid(e.id)) return false;
  if (typeof e.type !== 'string' || e.type.length < 1 || e.type.length > 200) return false;
  if (typeof e.v !== 'number' || !Number.isInteger(e.v) || e.v < 1) return false;
  if (!('payload' in e) || e.payload === undefined) return false;
  if (!isDatetime(e.createdAt)) return false;
  if (e.notBefore !== undefined && !isDatetime(e.notBefore)) return false;
  if (e.key !== undefined && (typeof e.key !== 'string' || e.key.length < 1 || e.key.length > 512)) return false;
  if (e.trace !== undefined && !isTraceCarrier(e.trace)) return false;
  if (e.meta !== undefined && !isStringRecord(e.meta)) return false;
  return true;
}

/** Serialises an envelope to its stored text, validating it first. */
export function encodeEnvelope(envelope: Envelope): string {
  if (isEnvelope(envelope)) {
    assertJsonValue(envelope.payload);
    return JSON.stringify(envelope);
  }
  const parsed = envelopeSchema.safeParse(envelope);
  const why = parsed.success ? 'unexpected field types' : z.prettifyError(parsed.error);
  throw new BgError('INVALID_ARGUMENT', `cannot encode envelope: ${why}`);
}

/**
 * {@link encodeEnvelope} for an envelope whose payload the caller has just checked with
 * `assertJsonValue` (the producer's hot path): the payload is not walked a second time.
 * @internal
 */
export function encodeCheckedEnvelope(envelope: Envelope): string {
  return isEnvelope(envelope) ? JSON.stringify(envelope) : encodeEnvelope(envelope);
}

/** At most this many characters of a foreign message's own text reach an error message. */
const ECHO_LIMIT = 40;
/** At most this many characters of a schema explanation (it names foreign keys, which can be long). */
const EXPLANATION_LIMIT = 600;

/**
 * The envelope's `bg` field as an error may show it: a short number or string as JSON
 * (cut to {@link ECHO_LIMIT} characters), anything else by its kind only. The message of a
 * foreign queue can hold anything, a secret included; never echo it unbounded.
 */
function describeFormat(value: unknown): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return bounded(String(value), ECHO_LIMIT);
  if (typeof value === 'string') {
    const json = JSON.stringify(value);
    return json.length <= ECHO_LIMIT ? json : `${json.slice(0, ECHO_LIMIT)}…" (a string of ${value.length} characters)`;
  }
  return Array.isArray(value) ? `(an array of ${value.length} items)` : '(an object)';
}

/**
 * Parses stored text into an envelope. Throws `MALFORMED_ENVELOPE` (not retryable) for
 * anything else: invalid JSON, other shapes, unknown format versions. A malformed `trace` field
 * alone is dropped (the envelope decodes without it).
 */
export function decodeEnvelope(text: string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new BgError('MALFORMED_ENVELOPE', 'message body is not JSON', { cause });
  }
  if (typeof raw === 'object' && raw !== null && 'bg' in raw && raw.bg !== ENVELOPE_FORMAT_VERSION) {
    const format = describeFormat(raw.bg);
    throw new BgError('MALFORMED_ENVELOPE', `unknown envelope format version ${format}`, { details: { format } });
  }
  if (isEnvelope(raw)) return raw;
  // The trace context is telemetry: a malformed one (another producer's, a truncated header) is
  // dropped, never a reason to set the job aside without running it.
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'trace' in raw && !isTraceCarrier(raw.trace)) {
    const { trace: _dropped, ...rest } = raw as Record<string, unknown>;
    if (isEnvelope(rest)) return rest;
    raw = rest;
  }
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BgError(
      'MALFORMED_ENVELOPE',
      `message is not a bg envelope: ${bounded(z.prettifyError(parsed.error), EXPLANATION_LIMIT)}`,
    );
  }
  // The schema accepted what the fast check refused: never trust the difference silently.
  throw new BgError('MALFORMED_ENVELOPE', 'message is not a bg envelope (unexpected field types)');
}

/** UTF-8 byte length of a string, as adapters count payload limits. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
