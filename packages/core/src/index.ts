export {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type Capabilities,
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type DeadLetterInfo,
  type DeadLetterPage,
  type DeadLetterReason,
  type ErrorInfo,
  type KnownQueueStats,
  type LeaseHandle,
  type OutgoingMessage,
  QUEUE_NAME_PATTERN,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendResult,
} from './adapter.js';
export { assertQueueName, assertSendable, CloseGuard, checkLeaseMs, checkReleaseDelayMs } from './adapter-guards.js';
export {
  type AdapterSource,
  normalizeScheme,
  registerAdapter,
  registeredSchemes,
  unregisterAdapter,
} from './adapter-registry.js';
export { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy, resolveRetryPolicy } from './backoff.js';
export { ADAPTER_PACKAGES, type ConnectOptions, connect, redactUrl, type UrlAdapterModule } from './connect.js';
export {
  type DeadLetterFilter,
  deadLetterType,
  isDeadLetterFilterActive,
  matchesDeadLetter,
} from './dead-letter-filter.js';
export {
  type DeadLetterMark,
  deadLetterMarkOf,
  encodeDeadLetterMark,
  MAX_DEAD_LETTER_MARK_BYTES,
  readDeadLetterMark,
  withoutDeadLetterMark,
} from './dead-letter-mark.js';
export {
  decodeEnvelope,
  ENVELOPE_FORMAT_VERSION,
  type Envelope,
  encodeEnvelope,
  envelopeSchema,
  MAX_ENVELOPE_TIME_MS,
  utf8Bytes,
} from './envelope.js';
export { toErrorInfo } from './error-info.js';
export { BgError, type BgErrorCode, type BgErrorOptions, isBgError, permanentError } from './errors.js';
export type { HandBackVia, HandBackWhy } from './hand-back.js';
export type {
  Instrumentation,
  InstrumentationTarget,
  ProducerHooks,
  SendInfo,
  TraceCarrier,
  WorkerHooks,
} from './instrumentation.js';
export {
  defineJob,
  isJobDefinition,
  type JobDefinition,
  type JobInput,
  type JobOptions,
  type JobPayload,
  type Migration,
  migratePayload,
  validatePayload,
} from './job.js';
export { assertJsonValue, type JsonValue, MAX_PAYLOAD_DEPTH } from './json-value.js';
export { DEAD_LETTER_ATTRIBUTE } from './message-attributes.js';
export {
  type MissingQueuePolicy,
  nameMissingQueue,
  prepareQueue,
  queueNotFound,
  resolveMissingQueue,
} from './missing-queue.js';
export { MAX_TIMER_MS } from './option-checks.js';
export {
  assertAdapter,
  createQueue,
  type DeadLetters,
  type DeduplicationOutcome,
  deduplicationOf,
  type EnqueueOptions,
  type EnqueueResult,
  type Queue,
  type QueueOptions,
} from './queue.js';
export { isSecretName, REDACTED, redactError, redactText, redactValue, stripLegacyCodeLink } from './redact.js';
export { redactJsonText, redactJsonValue } from './redact-json.js';
export { replayDeadLetter } from './replay-dead-letter.js';
export { type StopOnSignalsOptions, stopOnSignals } from './shutdown-signals.js';
export type { HandedBack, LeftToLease, StopReport } from './stop-report.js';
export { invalidUrl, type UrlParams, urlParams } from './url-params.js';
export { UUID_PATTERN, uuidv7 } from './uuid-v7.js';
export { formatWarning, NO_WARNINGS_ENV, setWarningSink, type WarningSink, warningsDisabled, warnOnce } from './warn-once.js';
export { createWorker, type Handler, type JobContext, type Worker, type WorkerOptions } from './worker.js';
export type { Logger, WorkerDecision, WorkerEvent } from './worker-events.js';
