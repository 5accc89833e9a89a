/** Attribute names of the OpenTelemetry messaging conventions that bg sets. */
export const ATTR = Object.freeze({
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  /** bg's own: the job type of the envelope. */
  jobType: 'bg.job.type',
  /** bg's own: the attempt the handler ran (1 on the first). */
  attempt: 'bg.job.attempt',
  /** bg's own: the delivery count the backend reported. */
  deliveryCount: 'bg.delivery_count',
  /** bg's own: the dead-letter reason (`max-attempts`, `permanent-error` …). */
  deadLetterReason: 'bg.dead_letter.reason',
  /** bg's own: why a delivery was put back without running (`not-before`, `fresh-count`, `unknown-version`, `shutdown`). */
  deferReason: 'bg.defer.reason',
  /** bg's own: the delay in ms of a retry or a hop. */
  delayMs: 'bg.delay_ms',
  /** bg's own: which count a backlog gauge reports (`ready`, `in_flight`, `delayed`, `dead`, `total`). */
  queueState: 'bg.queue.state',
});

/** Span event names of settle outcomes on a `process` span. */
export const EVENT = Object.freeze({
  ack: 'bg.ack',
  retry: 'bg.retry',
  deadLetter: 'bg.dead_letter',
  hop: 'bg.hop',
  defer: 'bg.defer',
  leaseExtended: 'bg.lease_extended',
  leaseLost: 'bg.lease_lost',
});
