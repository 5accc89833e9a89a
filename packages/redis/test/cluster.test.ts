import { fileURLToPath } from 'node:url';
import { runConformance } from '@bg/conformance';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REDIS_CAPABILITIES, redisAdapter } from '../src/index.js';
import { redisInspector } from './inspector.js';

/** The masters of the private three-master cluster the global setup started. */
const nodes = inject('redisClusterNodes');
const unreachableUrl = inject('unreachableRedisUrl');
const quiet = () => {};

if (!nodes) {
  describe.skip('redis cluster conformance (redis-server is not installed)', () => {
    it('skipped', () => {});
  });
} else {
  const cluster = nodes.split(',').map((node) => {
    const [host = '', port = ''] = node.split(':');
    return { host, port: Number(port) };
  });
  const inspectors: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(inspectors.map((i) => i.close()));
  });

  runConformance(
    { describe, it, expect, afterAll },
    {
      name: 'redis-cluster',
      capabilities: REDIS_CAPABILITIES,
      concurrent: true,
      createAdapter: () => redisAdapter({ cluster, prefix: 'clu', onWarning: quiet }),
      inspector: () => {
        const i = redisInspector(cluster, 'clu');
        inspectors.push(i);
        return i;
      },
      // Three masters and the cases running concurrently share two cores with the rest of the
      // run: a stop took 655 ms past its grace period once under CI load (the call, not the
      // backend, was late). Wider tolerance, and a lease long enough that "not before the lease
      // ends" still means something with it.
      timing: { leaseMs: 1_000, toleranceMs: 250, deadlineMs: 8_000 },
      errors: {
        unreachable: () => redisAdapter({ url: unreachableUrl, onWarning: quiet, connectTimeoutMs: 1_000 }),
        // Same queue names, another prefix: queues that were never ensured.
        missingQueue: () => redisAdapter({ cluster, prefix: 'clu-missing', onWarning: quiet }),
      },
      exclude: { 'optional.durability': 'runs in durability.test.ts against an AOF server restarted with kill -9' },
      workerProcess: {
        adapterModule: fileURLToPath(new URL('./worker-adapter.mjs', import.meta.url)),
        env: { BG_TEST_REDIS_CLUSTER: nodes, BG_TEST_REDIS_PREFIX: 'clu' },
      },
    },
  );
}
