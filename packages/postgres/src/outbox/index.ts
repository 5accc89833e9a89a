export { createOutbox, type Outbox, type OutboxEnqueueOptions, type OutboxOptions, type Queryable } from './outbox.js';
export { type OutboxStats, outboxStats, type Relay, type RelayOptions, startRelay } from './relay.js';
