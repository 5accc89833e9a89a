import { expectIdleCost, idleScenario } from '@bg/backends';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { postgresAdapter } from '../src/index.js';

const url = inject('pgUrl');

describe.skipIf(!url)('postgres idle queues', () => {
  it('one worker process serving 10 idle queues costs at most 1 statement per second per queue; an enqueue into an idle queue starts at once (LISTEN/NOTIFY)', async () => {
    // The application's own pool, counting every statement the adapter sends through it.
    const pool = new pg.Pool({ connectionString: url, max: 5 });
    let statements = 0;
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      statements++;
      return query(...args);
    };
    const adapter = postgresAdapter({ pool, schema: 'idle_cost' });
    const queues = Array.from({ length: 10 }, (_, i) => `idle-${i}`);
    try {
      // Idle workers look at the table at the start of each receive (every `pollMs`, 5 s): a
      // window of two receives, after the first ones.
      const measure = await idleScenario(adapter, queues, () => statements, { seconds: 10, settleMs: 2_000 });
      // A NOTIFY wakes the receive at once (≤ 1 s allowed under load; the fallback poll is 10 s).
      expectIdleCost(expect, 'postgres', measure, { queues: queues.length, unit: 'statement', startMs: 1_000 });
    } finally {
      await adapter.close();
      await pool.end();
    }
  }, 60_000);
});
