import { requestRestart } from '@bg/backends';
import { conformanceCases, runCase } from '@bg/conformance';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { POSTGRES_CAPABILITIES, postgresAdapter } from '../src/index.js';
import { pgInspector } from './inspector.js';

const url = inject('pgDurableUrl');
const restartUrl = inject('pgRestartUrl');
const durability = conformanceCases().find((c) => c.id === 'optional.durability');

describe.skipIf(!url)('postgres durability (kill -9 of the server and all its backends)', () => {
  const inspector = url ? pgInspector(url, 'durable') : undefined;
  afterAll(async () => {
    await inspector?.close();
  });

  it('conformance optional.durability: stored and leased jobs survive kill -9 and a restart', async () => {
    expect(durability, 'the conformance suite has an optional.durability case').toBeDefined();
    await runCase(
      durability as NonNullable<typeof durability>,
      {
        name: 'postgres durable',
        capabilities: POSTGRES_CAPABILITIES,
        createAdapter: () => postgresAdapter({ url, schema: 'durable', poolSize: 2 }),
        inspector: () => inspector as NonNullable<typeof inspector>,
        timing: { leaseMs: 500, deadlineMs: 10_000 },
        restartBackend: () => requestRestart(restartUrl),
      },
      expect,
    );
  });
});
