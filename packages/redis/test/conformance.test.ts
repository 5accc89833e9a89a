import { fileURLToPath } from 'node:url';
import { runConformance } from '@bg/conformance';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REDIS_CAPABILITIES, redisAdapter } from '../src/index.js';
import { redisInspector } from './inspector.js';

const url = inject('redisUrl');
const passwordUrl = inject('passwordRedisUrl');
const unreachableUrl = inject('unreachableRedisUrl');
const quiet = () => {};

if (!url) {
  describe.skip('redis conformance (redis-server is not installed)', () => {
    it('skipped', () => {});
  });
} else {
  const inspectors: Array<{ close(): Promise<void> }> = [];
  const inspect = (u: string, prefix: string) => {
    const i = redisInspector(u, prefix);
    inspectors.push(i);
    return i;
  };
  afterAll(async () => {
    await Promise.all(inspectors.map((i) => i.close()));
  });

  runConformance(
    { describe, it, expect, afterAll },
    {
      name: 'redis',
      capabilities: REDIS_CAPABILITIES,
      concurrent: true,
      createAdapter: () => redisAdapter({ url, prefix: 'conf', onWarning: quiet }),
      inspector: () => inspect(url, 'conf'),
      timing: { leaseMs: 300, deadlineMs: 8_000 },
      errors: {
        unreachable: () => redisAdapter({ url: unreachableUrl, onWarning: quiet, connectTimeoutMs: 1_000 }),
        ...(passwordUrl
          ? { badCredentials: () => redisAdapter({ url: passwordUrl.replace('redis://', 'redis://:wrong@'), onWarning: quiet }) }
          : {}),
        // Same queue names, another prefix: queues that were never ensured.
        missingQueue: () => redisAdapter({ url, prefix: 'conf-missing', onWarning: quiet }),
      },
      url: {
        url,
        malformed: [`redis://:hunter2Secret@127.0.0.1:6379/abc`, `redis://:hunter2Secret@127.0.0.1:6379?prefx=bg`],
        secret: 'hunter2Secret',
      },
      exclude: { 'optional.durability': 'runs in durability.test.ts against an AOF server restarted with kill -9' },
      workerProcess: {
        adapterModule: fileURLToPath(new URL('./worker-adapter.mjs', import.meta.url)),
        env: { BG_TEST_REDIS_URL: url, BG_TEST_REDIS_PREFIX: 'conf' },
      },
    },
  );
}
