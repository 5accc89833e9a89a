import { z } from 'zod';
import { BgError } from './errors.js';
import type { JsonValue } from './json-value.js';
import { UUID_PATTERN } from './uuid-v7.js';

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

/** Serialises an envelope to its stored text, validating it first. */
export function encodeEnvelope(envelope: Envelope): string {
  const parsed = envelopeSchema.safeParse(envelope);
  if (!parsed.success) {
    throw new BgError('INVALID_ARGUMENT', `cannot encode envelope: ${z.prettifyError(parsed.error)}`);
  }
  return JSON.stringify(parsed.data);
}

/**
 * Parses stored text into an envelope. Throws `MALFORMED_ENVELOPE` (not retryable) for
 * anything else: invalid JSON, other shapes, unknown format versions.
 */
export function decodeEnvelope(text: string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new BgError('MALFORMED_ENVELOPE', 'message body is not JSON', { cause });
  }
  if (typeof raw === 'object' && raw !== null && 'bg' in raw && raw.bg !== ENVELOPE_FORMAT_VERSION) {
    throw new BgError('MALFORMED_ENVELOPE', `unknown envelope format version ${JSON.stringify(raw.bg)}`, {
      details: { format: raw.bg },
    });
  }
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BgError('MALFORMED_ENVELOPE', `message is not a bg envelope: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** UTF-8 byte length of a string, as adapters count payload limits. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
