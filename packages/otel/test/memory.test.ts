import { memoryAdapter } from '@bg/memory';
import { describe } from 'vitest';
import { traceScenario } from './scenario.js';

describe('@bg/otel on memory', () => {
  traceScenario({ name: 'memory', system: 'bg_memory', makeAdapter: () => memoryAdapter(), leaseMs: 3_000, pollMs: 200 });
});
