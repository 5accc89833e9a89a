export { createOutbox, type Outbox, type OutboxEnqueueOptions, type OutboxOptions, type Queryable } from './outbox.js';
export { hasOutbox, type OutboxQueueStats, type OutboxStats, outboxQueueStats, outboxStats } from './outbox-stats.js';
export { type Relay, type RelayOptions, startRelay } from './relay.js';
