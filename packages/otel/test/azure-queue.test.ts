import { azureQueueAdapter } from '@bg/azure-queue';
import { describe, inject } from 'vitest';
import { traceScenario } from './scenario.js';

const found = inject('otelAzurite');

describe.skipIf('skip' in found)(`@bg/otel on azure-queue${'skip' in found ? ` [${found.skip}]` : ''}`, () => {
  traceScenario({
    name: 'azure-queue',
    system: 'azure_storage_queues',
    makeAdapter: () =>
      azureQueueAdapter({
        connectionString: 'connectionString' in found ? found.connectionString : '',
        pollIntervalMs: { min: 25, max: 200 },
      }),
    leaseMs: 3_000,
    pollMs: 1_000,
  });
});
