/**
 * Real Amazon SQS limits the adapter enforces itself (the emulators are more lenient), and
 * the capability manifest built from them.
 * @module
 */
import type { Capabilities } from '@bg/core/adapter';

/** Largest message SQS accepts: body plus message attributes, in bytes (1 MiB). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** Smallest `MaximumMessageSize` a queue can have (1 KiB). */
export const SQS_MIN_MESSAGE_BYTES = 1_024;
/** Longest visibility timeout, in seconds (12 h). Also the cap counted from the receive. */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;
/** Longest per-message `DelaySeconds` (15 min). */
export const SQS_MAX_DELAY_SECONDS = 900;
/** Longest long poll (`WaitTimeSeconds`). */
export const SQS_MAX_WAIT_SECONDS = 20;
/** Most entries in any SQS batch call and most messages per `ReceiveMessage`. */
export const SQS_MAX_BATCH = 10;
/**
 * `maxBatchSize` of a standard queue: most messages per `send` and `receive` of the adapter,
 * which splits them into SQS calls of 10 sent in parallel (a worker of concurrency 80 then
 * has 80 messages in flight, not the 10–20 that receives of 10 allow). FIFO queues keep
 * {@link SQS_MAX_BATCH}: one `ReceiveMessage` per receive, and a send split by size goes out
 * one call after another, in order.
 */
export const SQS_STANDARD_MAX_BATCH = 100;
/** Most message attributes per message. */
export const SQS_MAX_ATTRIBUTES = 10;
/** Longest message retention (14 days); `ensureQueue` sets it on both queues. */
export const SQS_MAX_RETENTION_SECONDS = 1_209_600;
/**
 * Bytes of every message kept back for attributes: the adapter's own (`bg.id`, `bg.meta`,
 * dead-letter info) and the first {@link ATTRIBUTE_ALLOWANCE_BYTES} of the caller's.
 * `maxPayloadBytes` is 3/4 of the message size limit minus this reserve (room for base64).
 */
export const ADAPTER_RESERVED_BYTES = 8_192;
/**
 * Bytes of caller attributes (names, types and values as SQS counts them) carried inside the
 * reserve: attributes up to this size (the core's `bg-type`, `bg-hopped` …) never count against
 * `maxPayloadBytes`, so a body of exactly `maxPayloadBytes` is accepted (even as base64); beyond it, the excess
 * counts as body bytes.
 */
export const ATTRIBUTE_ALLOWANCE_BYTES = 2_048;

/**
 * The manifest of an SQS adapter. A body holding characters SQS rejects is stored as base64
 * (4 bytes per 3): `maxPayloadBytes` is the largest body that fits in every case, so a body
 * within the limit is never refused. FIFO queues have no per-message delay (delays hop).
 */
export function sqsCapabilities(settings: {
  readonly fifo: boolean;
  readonly maxMessageBytes: number;
  readonly redriveMaxReceiveCount: number | undefined;
}): Capabilities {
  const redrive = settings.redriveMaxReceiveCount;
  return Object.freeze({
    maxPayloadBytes: Math.floor((settings.maxMessageBytes - ADAPTER_RESERVED_BYTES) / 4) * 3,
    maxDelayMs: settings.fifo ? 0 : SQS_MAX_DELAY_SECONDS * 1000,
    maxLeaseMs: SQS_MAX_VISIBILITY_SECONDS * 1000,
    minLeaseMs: 1_000,
    maxReleaseDelayMs: SQS_MAX_VISIBILITY_SECONDS * 1000,
    maxBatchSize: settings.fifo ? SQS_MAX_BATCH : SQS_STANDARD_MAX_BATCH,
    extendBeyondMax: 'clamp',
    nativeDeliveryCount: true,
    nativeDeadLetter: redrive !== undefined,
    ...(redrive !== undefined ? { maxDeliveries: redrive } : {}),
    ordering: settings.fifo,
    deduplication: settings.fifo,
    durable: true,
  });
}
