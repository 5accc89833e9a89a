import { requestRestart } from '@bg/backends';
import { runCaseById } from '@bg/conformance';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REDIS_CAPABILITIES, redisAdapter } from '../src/index.js';
import { redisInspector } from './inspector.js';

const url = inject('durableRedisUrl');
const restartUrl = inject('durableRestartUrl');

describe.skipIf(!url)('redis durability (AOF, appendfsync always)', () => {
  const inspector = url ? redisInspector(url, 'durable') : undefined;
  afterAll(async () => {
    await inspector?.close();
  });

  it('conformance optional.durability: stored and leased jobs survive kill -9 and a restart', () =>
    runCaseById(
      'optional.durability',
      {
        name: 'redis durable',
        capabilities: REDIS_CAPABILITIES,
        createAdapter: () => redisAdapter({ url, prefix: 'durable', onWarning: () => {} }),
        inspector: () => inspector as NonNullable<typeof inspector>,
        timing: { leaseMs: 500, deadlineMs: 10_000 },
        restartBackend: () => requestRestart(restartUrl as string),
      },
      expect,
    ));
});
