/**
 * Google Cloud Pub/Sub adapter for bg.
 * @module
 */
export {
  ATTRIBUTE_ALLOWANCE_BYTES,
  MAX_ACK_DEADLINE_SECONDS,
  MAX_ATTRIBUTE_KEY_BYTES,
  MAX_ATTRIBUTE_VALUE_BYTES,
  MAX_ATTRIBUTES,
  MAX_DELIVERY_ATTEMPTS,
  MESSAGE_LIMIT_BYTES,
  MIN_ACK_DEADLINE_SECONDS,
  PUBLISH_REQUEST_LIMIT_BYTES,
  PUBLISH_REQUEST_LIMIT_MESSAGES,
  PUBSUB_CAPABILITIES,
} from './capabilities.js';
export { fromUrl, optionsFromUrl } from './from-url.js';
export { ID_ATTRIBUTE, MAX_USER_ATTRIBUTES } from './message-codec.js';
export { type PubSubAdapterOptions, pubsubAdapter } from './pubsub-adapter.js';
export { type QueueResources, queueResources } from './resource-names.js';
