import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';

/** Options of {@link sqsAdapter}. */
export interface SqsAdapterOptions {
  /**
   * An SQS client of your own (left open by `close()`). Without it the adapter makes one
   * from `region`, `endpoint`, `credentials` and `clientConfig`, and destroys it on close.
   */
  readonly client?: SQSClient;
  /** AWS region (default: the SDK's own resolution, e.g. `AWS_REGION`). */
  readonly region?: string;
  /** Endpoint override, e.g. `http://127.0.0.1:4566` for an emulator. */
  readonly endpoint?: string;
  /** Static credentials (default: the SDK's credential chain). */
  readonly credentials?: SQSClientConfig['credentials'];
  /**
   * Any other SDK client settings, over the adapter's defaults. A `requestHandler` given as
   * options (`{ requestTimeout, … }`) is merged over the adapter's handler settings (see
   * `connectTimeoutMs`, `requestTimeoutMs`); a handler instance of your own is used as it is.
   * A `logger` here also receives the HTTP handler's warnings (by default they are dropped).
   */
  readonly clientConfig?: SQSClientConfig;
  /** SDK attempts per call, retries included (default 3): keeps "unreachable" fast. */
  readonly maxAttempts?: number;
  /** TCP connect timeout of one attempt, in ms (default 3 000). */
  readonly connectTimeoutMs?: number;
  /**
   * Longest wait for the answer to one HTTP attempt, in ms (default 30 000): the SDK's
   * `requestTimeout` with `throwOnRequestTimeout`, so an attempt that gets no answer is aborted
   * and fails. A long poll asks for at most this minus 5 s (`WaitTimeSeconds` ≤ 20; below 6 s
   * the adapter short-polls). Settings of the client the adapter makes.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Longest wait for one SQS call, in ms, on top of the long poll it asks for (default
   * 10 000; `0`: none): a call (its SDK retries included) that has no answer by then is aborted
   * and fails with `UNREACHABLE` (retryable). A long poll of 20 s gets 30 s, any other call 10 s.
   * Applies to your own `client` too.
   */
  readonly callTimeoutMs?: number;
  /**
   * FIFO queues: SQS names get the `.fifo` suffix, `orderingKey` becomes the message group
   * id, `deduplicationKey` the deduplication id. Per-message delays are not available on
   * FIFO queues (delays hop through the core). Default false.
   */
  readonly fifo?: boolean;
  /**
   * Prepended to every SQS queue name (e.g. `staging-`), so environments can share an
   * account; bg queue names stay portable. Default none.
   */
  readonly queueNamePrefix?: string;
  /**
   * Characters above U+FFFF (emoji …): `base64` (default) stores a body holding them as the
   * base64 of its UTF-8 bytes (flagged in `bg.meta`, decoded on receive) because some
   * SQS-compatible servers such as fauxqs reject them; `raw` sends them as they are, which
   * real SQS accepts and saves the 33 % base64 overhead on such bodies.
   */
  readonly astralText?: 'base64' | 'raw';
  /**
   * Suffix of the companion dead-letter queue (default `-dlq`, i.e. `<queue>-dlq`): non-empty,
   * `A-Z a-z 0-9 _ -`. bg queue names ending in it are refused (`INVALID_ARGUMENT`): such a
   * queue would be another queue's dead-letter queue.
   */
  readonly deadLetterSuffix?: string;
  /**
   * Largest SQS message (body + attributes) in bytes: 1 MiB by default; set it to your queues'
   * `MaximumMessageSize` when lower (≥ 1 KiB + the adapter's 8 KiB reserve). `ensureQueue`
   * creates queues with this `MaximumMessageSize`.
   */
  readonly maxMessageBytes?: number;
  /**
   * Safety net for crash-looping jobs: `ensureQueue` sets an SQS RedrivePolicy moving a
   * message to the dead-letter queue after this many receives. Keep it well above your jobs'
   * `maxAttempts` (the core dead-letters with a reason long before). Default: none.
   */
  readonly redriveMaxReceiveCount?: number;
  /**
   * Dead-letter reads scan the dead-letter queue by receiving every message with this
   * visibility timeout (seconds, default 30) and making them visible again afterwards. A scan
   * stops after 3/4 of it, with what it has read.
   */
  readonly deadLetterScanVisibilitySeconds?: number;
  /**
   * Most dead-letter records one scan reads (default 10 000): it bounds the memory a listing,
   * replay or purge holds. A purge of all dead letters scans again until none are left; a
   * listing, `getDeadLetter` or `replayDeadLetter` sees only the records one scan read.
   */
  readonly deadLetterScanLimit?: number;
  /**
   * Within this margin (ms, default 250) of its local lease expiry an `ack` or `deadLetter`
   * proves ownership with `ChangeMessageVisibility` before deleting; earlier it deletes directly.
   */
  readonly ownershipMarginMs?: number;
}
