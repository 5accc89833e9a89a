/**
 * `@bg/core/adapter`: everything an adapter author needs — the contract, its guards, and the
 * kit of plumbing every adapter shares (dead-letter store, recent handles, abortable waits,
 * argument checks, error factories). See "Writing an adapter" in the README.
 * @module
 */
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
} from '../adapter.js';
export { assertQueueName, assertSendable, CloseGuard, checkLeaseMs, checkReleaseDelayMs } from '../adapter-guards.js';
export { utf8Bytes } from '../envelope.js';
export { toErrorInfo } from '../error-info.js';
export { BgError, type BgErrorCode, type BgErrorOptions, isBgError } from '../errors.js';
export { ORDERING_KEY_ATTRIBUTE, TYPE_ATTRIBUTE } from '../message-attributes.js';
export { checkOptionNames, describeValue } from '../option-checks.js';
export { hasLoneSurrogate } from '../text-checks.js';
export { invalidUrl, type UrlParams, urlParams } from '../url-params.js';
export {
  abortableSleep,
  type HandBackOutcome,
  type RaceOutcome,
  raceAbort,
  raceAbortHandBack,
} from './abortable.js';
export { AdapterCalls, type MapError } from './adapter-calls.js';
export {
  assertOptionsObject,
  booleanOption,
  durationOption,
  integerOption,
  invalidOption,
  objectOption,
  oneOfOption,
} from './adapter-options.js';
export { BackgroundWork, CLOSE_HAND_BACK_WAIT_MS } from './background-work.js';
export {
  compareDeadLetters,
  type DeadLetterPosition,
  decodeDeadLetterCursor,
  encodeDeadLetterCursor,
  positionOf,
} from './dead-letter-cursor.js';
export { type LatestSplit, latestPerJob, pageDeadLetters, readDeadLetterPage } from './dead-letter-page.js';
export { type DeadLetterSourceMessage, deadLetterRecord } from './dead-letter-record.js';
export { type DeadLetterBackend, DeadLetterStore, type DeadLetterStoreOptions } from './dead-letter-store.js';
export { IdlePacer, type IdlePacerOptions } from './idle-pacer.js';
export { invalidHandle } from './invalid-handle.js';
export { KeyedMutex, type SectionLock } from './keyed-mutex.js';
export { leaseLost } from './lease-lost.js';
export { networkError, TRANSIENT_NETWORK_CODES, transientNetworkCode } from './network-errors.js';
export { type PartialSendDetails, partialSendError, type SendFailure } from './partial-send-error.js';
export {
  type CheckedReceive,
  checkDeadLetterArgs,
  checkLimit,
  checkPageOptions,
  checkPurgeIds,
  checkReceiveOptions,
  DEFAULT_PAGE_LIMIT,
  MAX_ATTEMPTS_VALUE,
} from './receive-checks.js';
export { RecentHandles } from './recent-handles.js';
export { SCAN_TIME_SHARE, scanDeadline } from './scan-deadline.js';
export { settleWithin } from './settle-within.js';
export { capabilitiesWith, STORE_CAPABILITIES } from './store-capabilities.js';
export { tlsFailureCode } from './tls-errors.js';
export { trackCalls } from './tracked-calls.js';
export { decodeWtf8, encodeWtf8 } from './wtf8.js';
