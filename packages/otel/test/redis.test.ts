import { redisAdapter } from '@bg/redis';
import { describe, inject } from 'vitest';
import { traceScenario } from './scenario.js';

const found = inject('otelRedis');

describe.skipIf('skip' in found)(`@bg/otel on redis${'skip' in found ? ` [${found.skip}]` : ''}`, () => {
  const url = 'url' in found ? found.url : '';
  traceScenario({
    name: 'redis',
    system: 'redis',
    makeAdapter: () => redisAdapter({ url, prefix: 'otel', onWarning: () => {} }),
    leaseMs: 3_000,
    pollMs: 500,
  });
});
