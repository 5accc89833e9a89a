import {
  type Adapter,
  assertJsonValue,
  BgError,
  type DeduplicationOutcome,
  deduplicationOf,
  type Envelope,
  encodeEnvelope,
  type JobDefinition,
  type JsonValue,
  MAX_ENVELOPE_TIME_MS,
  migratePayload,
  nameMissingQueue,
  type SendResult,
  utf8Bytes,
  uuidv7,
  validatePayload,
} from '@bg/core';

/** Options of {@link enqueueRaw}. */
export interface RawEnqueueOptions {
  readonly queue: string;
  readonly type: string;
  readonly payload: unknown;
  /** Payload version (default: the definition's version, else 1). */
  readonly version?: number;
  /** Delay before the first run, ms (longer than the backend's native maximum: `notBefore` hop). */
  readonly delayMs?: number;
  /** Idempotency key (stored as the envelope's `key`; dedupe where the backend supports it). */
  readonly key?: string;
  /** Job id (default a fresh UUIDv7). */
  readonly id?: string;
  /** When given, the payload is validated against it (migrated first for older versions). */
  readonly definition?: JobDefinition;
  readonly now?: number;
}

/**
 * Writes one envelope v1 to a queue without a job definition at hand (an operator tool):
 * type, payload version and payload as given. With `definition` the payload is validated
 * as a worker would (migrations from older versions, then the schema).
 */
export async function enqueueRaw(
  adapter: Adapter,
  options: RawEnqueueOptions,
): Promise<{ id: string; duplicate: boolean; deduplication: DeduplicationOutcome; envelope: Envelope }> {
  const def = options.definition;
  const version = options.version ?? def?.version ?? 1;
  if (!Number.isInteger(version) || version < 1)
    throw new BgError('INVALID_ARGUMENT', `version must be a positive integer, got ${version}`);
  assertJsonValue(options.payload);
  if (def) {
    const migrated = migratePayload(def, version, options.payload);
    await validatePayload(def, migrated);
  }
  const now = options.now ?? Date.now();
  const delayMs = Math.round(options.delayMs ?? 0);
  if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new BgError('INVALID_ARGUMENT', `delay must be ≥ 0, got ${delayMs}`);
  // The envelope stores the due time as an ISO date: it must fall before the year 10000.
  if (now + delayMs > MAX_ENVELOPE_TIME_MS) {
    throw new BgError('INVALID_ARGUMENT', 'delay puts the job past the year 9999');
  }
  const caps = adapter.capabilities;
  const envelope: Envelope = {
    bg: 1,
    id: options.id ?? uuidv7(now),
    type: options.type,
    v: version,
    payload: options.payload as JsonValue,
    createdAt: new Date(now).toISOString(),
    ...(delayMs > caps.maxDelayMs ? { notBefore: new Date(now + delayMs).toISOString() } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
  };
  const body = encodeEnvelope(envelope);
  const bytes = utf8Bytes(body);
  if (bytes > caps.maxPayloadBytes) {
    throw new BgError(
      'PAYLOAD_TOO_LARGE',
      `the job encodes to ${bytes} bytes; the ${adapter.name} limit is ${caps.maxPayloadBytes}`,
    );
  }
  let result: SendResult | undefined;
  try {
    [result] = await adapter.send(options.queue, [
      {
        id: envelope.id,
        body,
        attributes: { 'bg-type': options.type },
        ...(delayMs > 0 ? { delayMs: Math.min(delayMs, caps.maxDelayMs) } : {}),
        ...(options.key !== undefined && caps.deduplication ? { deduplicationKey: options.key } : {}),
      },
    ]);
  } catch (error) {
    throw nameMissingQueue(error, adapter, options.queue);
  }
  return {
    // A duplicate answers with the id of the job stored earlier under the same key.
    id: result?.id ?? envelope.id,
    duplicate: result?.duplicate ?? false,
    deduplication: deduplicationOf(options.key !== undefined, caps.deduplication),
    envelope,
  };
}
