/**
 * `messaging.system` per bg adapter name. The OpenTelemetry messaging conventions register
 * `aws_sqs` and `gcp_pubsub`; Redis Streams, Azure Storage Queues and the in-memory adapter
 * have no registered name, so bg uses its own (`redis`, `azure_storage_queues`, `bg_memory`).
 * Adapters of other names are reported by their own name.
 */
export const MESSAGING_SYSTEMS: Readonly<Record<string, string>> = Object.freeze({
  sqs: 'aws_sqs',
  pubsub: 'gcp_pubsub',
  redis: 'redis',
  'azure-queue': 'azure_storage_queues',
  memory: 'bg_memory',
});

/** The `messaging.system` value for an adapter name (see {@link MESSAGING_SYSTEMS}). */
export function messagingSystem(adapterName: string): string {
  return MESSAGING_SYSTEMS[adapterName] ?? adapterName;
}
