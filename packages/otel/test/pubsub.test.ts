import { pubsubAdapter } from '@bg/pubsub';
import { describe, inject } from 'vitest';
import { traceScenario } from './scenario.js';

const found = inject('otelPubsub');

describe.skipIf('skip' in found)(`@bg/otel on pubsub${'skip' in found ? ` [${found.skip}]` : ''}`, () => {
  traceScenario({
    name: 'pubsub',
    system: 'gcp_pubsub',
    makeAdapter: () =>
      pubsubAdapter({
        apiEndpoint: 'endpoint' in found ? found.endpoint : '',
        projectId: 'projectId' in found ? found.projectId : 'bg-test',
      }),
    leaseMs: 10_000,
    pollMs: 1_000,
  });
});
