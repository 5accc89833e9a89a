export {
  SQS_MAX_BATCH,
  SQS_MAX_DELAY_SECONDS,
  SQS_MAX_MESSAGE_BYTES,
  SQS_MAX_VISIBILITY_SECONDS,
  SQS_MAX_WAIT_SECONDS,
  SQS_STANDARD_MAX_BATCH,
} from './capabilities.js';
export { fromUrl, optionsFromUrl } from './from-url.js';
export type { SqsAdapterOptions } from './options.js';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type SqsAdapter,
  sqsAdapter,
} from './sqs-adapter.js';
