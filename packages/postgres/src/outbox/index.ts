export { createOutbox, type Outbox, type OutboxEnqueueOptions, type OutboxOptions, type Queryable } from './outbox.js';
export { hasOutbox, type OutboxQueueStats, type OutboxStats, outboxQueueStats, outboxStats } from './outbox-stats.js';
export { type AbandonedRow, type Relay, type RelayOptions, type RelayStopped, startRelay } from './relay.js';
export { DEFAULT_RELAY_GRACE_MS } from './relay-options.js';
