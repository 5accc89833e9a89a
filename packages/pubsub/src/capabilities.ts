import type { Capabilities } from '@bg/core/adapter';

/** Real Pub/Sub limit on one message: data plus attributes, in bytes (10 MB). */
export const MESSAGE_LIMIT_BYTES = 10_000_000;
/** Real Pub/Sub limit on one publish request, in bytes (10 MB). */
export const PUBLISH_REQUEST_LIMIT_BYTES = 10_000_000;
/** Real Pub/Sub limit on messages per publish request. */
export const PUBLISH_REQUEST_LIMIT_MESSAGES = 1_000;
/** Real Pub/Sub limit on attributes per message. */
export const MAX_ATTRIBUTES = 100;
/** Real Pub/Sub limit on an attribute key, in UTF-8 bytes. */
export const MAX_ATTRIBUTE_KEY_BYTES = 256;
/** Real Pub/Sub limit on an attribute value, in UTF-8 bytes. */
export const MAX_ATTRIBUTE_VALUE_BYTES = 1_024;
/**
 * Room kept for attributes inside the 10 MB message limit: 100 attributes of the largest
 * key and value. The declared body limit is what is left, so any body up to
 * `maxPayloadBytes` fits whatever (valid) attributes travel with it.
 */
export const ATTRIBUTE_ALLOWANCE_BYTES = MAX_ATTRIBUTES * (MAX_ATTRIBUTE_KEY_BYTES + MAX_ATTRIBUTE_VALUE_BYTES);
/** Shortest ack deadline Pub/Sub accepts on a subscription, in seconds. */
export const MIN_ACK_DEADLINE_SECONDS = 10;
/** Longest ack deadline one `modifyAckDeadline` (or subscription) can set, in seconds. */
export const MAX_ACK_DEADLINE_SECONDS = 600;
/** Delivery attempts after which Pub/Sub itself forwards a message to the dead-letter topic (the maximum). */
export const MAX_DELIVERY_ATTEMPTS = 100;

/**
 * The capability manifest of the Pub/Sub adapter: real Google Cloud Pub/Sub limits (the
 * emulator is more lenient; the adapter enforces these itself).
 */
export const PUBSUB_CAPABILITIES: Capabilities = Object.freeze({
  maxPayloadBytes: MESSAGE_LIMIT_BYTES - ATTRIBUTE_ALLOWANCE_BYTES,
  maxDelayMs: 0,
  maxLeaseMs: MAX_ACK_DEADLINE_SECONDS * 1_000,
  minLeaseMs: MIN_ACK_DEADLINE_SECONDS * 1_000,
  maxReleaseDelayMs: MAX_ACK_DEADLINE_SECONDS * 1_000,
  maxBatchSize: PUBLISH_REQUEST_LIMIT_MESSAGES,
  extendBeyondMax: 'clamp',
  nativeDeliveryCount: true,
  nativeDeadLetter: true,
  maxDeliveries: MAX_DELIVERY_ATTEMPTS,
  ordering: false,
  deduplication: false,
  durable: true,
} satisfies Capabilities);
