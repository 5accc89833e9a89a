import { sqsAdapter } from '@bg/sqs';
import { describe, inject } from 'vitest';
import { traceScenario } from './scenario.js';

const found = inject('otelSqs');

describe.skipIf('skip' in found)(`@bg/otel on sqs${'skip' in found ? ` [${found.skip}]` : ''}`, () => {
  traceScenario({
    name: 'sqs',
    system: 'aws_sqs',
    makeAdapter: () =>
      sqsAdapter({
        endpoint: 'endpoint' in found ? found.endpoint : '',
        region: 'region' in found ? found.region : 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      }),
    leaseMs: 3_000,
    pollMs: 1_000,
  });
});
