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
  /** Any other SDK client settings; merged under the adapter's own defaults. */
  readonly clientConfig?: SQSClientConfig;
  /** SDK attempts per call, retries included (default 3): keeps "unreachable" fast. */
  readonly maxAttempts?: number;
  /** TCP connect timeout in ms (default 3 000). */
  readonly connectTimeoutMs?: number;
  /** Socket idle timeout per request in ms (default 30 000; must exceed the 20 s long poll). */
  readonly requestTimeoutMs?: number;
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
  /** Suffix of the companion dead-letter queue (default `-dlq`, i.e. `<queue>-dlq`). */
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
   * visibility timeout (seconds, default 30) and making them visible again afterwards.
   */
  readonly deadLetterScanVisibilitySeconds?: number;
  /** Most dead-letter messages one scan reads (default 10 000). */
  readonly deadLetterScanLimit?: number;
  /**
   * Within this margin (ms, default 250) of its local lease expiry an `ack` or `deadLetter`
   * proves ownership with `ChangeMessageVisibility` before deleting; earlier it deletes directly.
   */
  readonly ownershipMarginMs?: number;
}
