import { requestRestart } from '@bg/backends';
import { runCaseById } from '@bg/conformance';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { POSTGRES_CAPABILITIES, postgresAdapter } from '../src/index.js';
import { pgInspector } from './inspector.js';

const url = inject('pgDurableUrl');
const restartUrl = inject('pgRestartUrl');

describe.skipIf(!url)('postgres durability (kill -9 of the server and all its backends)', () => {
  const inspector = pgInspector(url ?? '', 'durable');
  afterAll(() => inspector.close());

  it('conformance optional.durability: stored and leased jobs survive kill -9 and a restart', () =>
    runCaseById(
      'optional.durability',
      {
        name: 'postgres durable',
        capabilities: POSTGRES_CAPABILITIES,
        createAdapter: () => postgresAdapter({ url, schema: 'durable', poolSize: 2 }),
        inspector: () => inspector,
        timing: { leaseMs: 500, deadlineMs: 10_000 },
        restartBackend: () => requestRestart(restartUrl),
      },
      expect,
    ));
});
