export {
  AZURE_QUEUE_CAPABILITIES,
  type AzureQueueAdapter,
  type AzureQueueAdapterOptions,
  azureQueueAdapter,
} from './azure-queue-adapter.js';
export { fromUrl } from './from-url.js';
export { mapAzureError } from './map-error.js';
export {
  decodeLive,
  encodeLive,
  MAX_BODY_BYTES,
  MAX_MESSAGE_TEXT_CHARS,
  MAX_WRAPPED_BYTES,
  overheadBytes,
  WRAPPER_RESERVE_BYTES,
} from './message-codec.js';
export { azureQueueName, DEAD_LETTER_SUFFIX, deadLetterQueueName } from './queue-names.js';
export { type AzureConnectionOptions, type AzureCredential, DEFAULT_RETRY_OPTIONS } from './service-client.js';
