import { fileURLToPath } from 'node:url';
import { runConformance } from '@bg/conformance';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { POSTGRES_CAPABILITIES, postgresAdapter } from '../src/index.js';
import { pgInspector } from './inspector.js';

const url = inject('pgUrl');
const passwordUrl = inject('pgPasswordUrl');
const unreachableUrl = inject('pgUnreachableUrl');

if (!url) {
  describe.skip('postgres conformance (PostgreSQL is not installed)', () => {
    it('skipped', () => {});
  });
} else {
  // One inspector (its own pool) shared by the cases, which run side by side.
  const inspector = pgInspector(url, 'conf', 8);
  afterAll(() => inspector.close());

  runConformance(
    { describe, it, expect, afterAll },
    {
      name: 'postgres',
      capabilities: POSTGRES_CAPABILITIES,
      concurrent: true,
      createAdapter: () => postgresAdapter({ url, schema: 'conf', poolSize: 3, connectTimeoutMs: 20_000 }),
      inspector: () => inspector,
      // "At once" (a closed long poll returned, a job handed back at a stop's grace end) within
      // 1 s: the cases run side by side, and on a loaded 2-core CI box two such checks took
      // 1.4–1.5 s; the failures they catch take the poll's 20 s or the 60 s lease.
      timing: { leaseMs: 800, deadlineMs: 15_000, promptMs: 1_000 },
      errors: {
        unreachable: () => postgresAdapter({ url: unreachableUrl, connectTimeoutMs: 1_000 }),
        ...(passwordUrl
          ? {
              badCredentials: () =>
                postgresAdapter({ url: passwordUrl.replace(/:[^:@/]+@/, ':wrong@'), connectTimeoutMs: 20_000 }),
            }
          : {}),
        // Same queue names, another schema that was never migrated.
        missingQueue: () => postgresAdapter({ url, schema: 'conf_missing' }),
      },
      exclude: { 'optional.durability': 'runs in durability.test.ts against a second server restarted with kill -9' },
      workerProcess: {
        adapterModule: fileURLToPath(new URL('./worker-adapter.mjs', import.meta.url)),
        env: { BG_TEST_PG_URL: url, BG_TEST_PG_SCHEMA: 'conf' },
      },
    },
  );
}
