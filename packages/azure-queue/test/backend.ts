import { QueueServiceClient } from '@azure/storage-queue';
import { type AzureQueueAdapter, azureQueueAdapter, azureQueueName, deadLetterQueueName } from '@bg/azure-queue';
import { requestRestart } from '@bg/backends';
import type { Adapter } from '@bg/core';
import { inject } from 'vitest';

const info = inject('azurite');

/** Why the tests skip (Azurite missing), or undefined. */
export const skipReason: string | undefined = 'skip' in info ? info.skip : undefined;

function connected(): Exclude<typeof info, { skip: string }> {
  if ('skip' in info) throw new Error(info.skip);
  return info;
}

/** The Azurite connection string. */
export function connectionString(): string {
  return connected().connectionString;
}

/** The Azurite queue endpoint. */
export function queueEndpoint(): string {
  return connected().queueEndpoint;
}

/** A fresh adapter on the private Azurite. */
export function makeAdapter(): AzureQueueAdapter {
  return azureQueueAdapter({ connectionString: connectionString(), pollIntervalMs: { min: 25, max: 200 } });
}

/** Restarts Azurite cleanly (SIGTERM, same port and folder) through the global setup. */
export function restartAzurite(): Promise<void> {
  return requestRestart(connected().restartUrl);
}

/** A raw SDK client on the same Azurite (the inspector's own client). */
export function rawService(): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(connectionString(), { retryOptions: { maxTries: 2, retryDelayInMs: 100 } });
}

/** The inspector: reads Azurite with its own client, not through the adapter. */
export function inspector(_adapter?: Adapter) {
  const service = rawService();
  return {
    async liveCount(queue: string): Promise<number> {
      return (await service.getQueueClient(azureQueueName(queue)).getProperties()).approximateMessagesCount ?? 0;
    },
    async deadCount(queue: string): Promise<number> {
      return (await service.getQueueClient(deadLetterQueueName(queue)).getProperties()).approximateMessagesCount ?? 0;
    },
    async sendRaw(queue: string, body: string): Promise<void> {
      await service.getQueueClient(azureQueueName(queue)).sendMessage(body, { messageTimeToLive: -1 });
    },
  };
}
