import { type PostgresServer, startPostgres } from '@bg/backends/postgres';
import type { Adapter } from '@bg/core';
import { createOutbox } from '@bg/postgres/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../src/index.js';
import { open, runBg, seed, seedJob } from './helpers.js';

// `bgctl stats` on a real private PostgreSQL: the outbox's backlog and lag next to the queue
// counts, per target queue, in the table and in --json; nothing without an outbox table.
// Only this file needs PostgreSQL: it starts its own private server (not in the shared global
// setup, so the other files' servers start without competing with initdb).
let server: PostgresServer | undefined;
try {
  // Throws in CI when PostgreSQL is missing; undefined (skip) on a laptop without it.
  server = await startPostgres({ maxConnections: 50 });
} catch (error) {
  if (process.env.CI) throw error;
  console.warn(`[cli] PostgreSQL did not start: ${String(error)}`);
}
if (!server) console.warn('[cli] skipping the PostgreSQL outbox stats: no PostgreSQL here');

/** Runs the CLI in-process (cheaper than a subprocess), capturing both streams. */
async function runInProcess(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    stdoutIsTty: false,
    stderrIsTty: false,
    stdinIsTty: false,
    confirm: async () => false,
    cwd: process.cwd(),
    env: {},
  };
  const code = await runCli(argv, { io });
  return { code, stdout, stderr };
}

/** The PostgreSQL adapter's pool (what the outbox writes through). */
type WithPool = Adapter & { readonly pool: { query(text: string, values?: unknown[]): Promise<unknown> } };

describe.skipIf(!server)('bgctl stats on PostgreSQL with the transactional outbox (subprocess)', () => {
  // The user that must give its password (scram), to check that it is never printed.
  const base = server?.passwordUrl as string;
  const withSchema = (schema: string): string => `${base}?schema=${schema}`;
  const password = decodeURIComponent(new URL(base).password);
  const adapters: Adapter[] = [];
  const connectTo = async (schema: string): Promise<WithPool> => {
    const adapter = (await open(withSchema(schema))) as WithPool;
    adapters.push(adapter);
    return adapter;
  };
  let outboxDb: WithPool;

  beforeAll(async () => {
    outboxDb = await connectTo('cli_obx');
    // Creates bg's tables (the outbox among them) and the queue.
    await seed(outboxDb, 'signups', { live: 2, dead: 0 });
  });
  afterAll(async () => {
    await Promise.all(adapters.map((a) => a.close()));
    await server?.stop();
  });

  it('shows the backlog and lag per target queue, in --json (bgctl by name) and in the table, never the password', async () => {
    const outbox = createOutbox({ schema: 'cli_obx' });
    for (const [queue, n] of [
      ['signups', 2],
      ['billing', 1],
    ] as const) {
      for (let i = 0; i < n; i++) await outbox.enqueue(seedJob, { n: i, text: queue }, { tx: outboxDb.pool, queue });
    }
    // The billing row has been waiting for two minutes: the relays are behind on it.
    await outboxDb.pool.query("update cli_obx.outbox set created_at = created_at - 120000 where queue = 'billing'");

    const json = await runBg(['stats', withSchema('cli_obx'), '--queue', 'signups', '--json']);
    expect(json.code, `bgctl stats --json: ${json.stderr}`).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.queues, 'queue counts are unchanged').toEqual([{ queue: 'signups', ready: 2, inFlight: 0, delayed: 0, dead: 0 }]);
    expect(out.outbox, 'the outbox in --json').toMatchObject({
      table: 'cli_obx.outbox',
      backlog: 3,
      queues: [
        { queue: 'billing', backlog: 1 },
        { queue: 'signups', backlog: 2 },
      ],
    });
    expect(out.outbox.lagMs, 'total lag = the oldest row (billing, 2 min)').toBeGreaterThanOrEqual(120_000);
    expect(out.outbox.queues[0].lagMs, 'billing lag').toBeGreaterThanOrEqual(120_000);
    expect(out.outbox.queues[1].lagMs, 'signups lag (fresh rows)').toBeLessThan(120_000);

    const table = await runInProcess(['stats', withSchema('cli_obx'), '--queue', 'signups']);
    expect(table.code, `bgctl stats: ${table.stderr}`).toBe(0);
    expect(table.stdout, 'the summary line').toContain('OUTBOX cli_obx.outbox: 3 job(s) waiting for a relay, the oldest for 2m');
    expect(table.stdout, 'the billing row of the per-queue table').toMatch(/\nbilling\s+1\s+2m\n/);
    expect(table.stdout, 'the signups row of the per-queue table').toMatch(/\nsignups\s+2\s+\d+(ms|s)\n/);
    for (const run of [json, table]) {
      expect(run.stdout + run.stderr, 'the URL password is never printed').not.toContain(password);
    }
    expect(out.backend, 'the backend URL is redacted').not.toContain(password);
  });

  it('says the outbox is empty, and shows nothing when the database has no outbox table', async () => {
    const empty = await connectTo('cli_empty');
    await empty.ensureQueue('default');
    const run = await runInProcess(['stats', withSchema('cli_empty')]);
    expect(run.code, `bgctl stats on an empty outbox: ${run.stderr}`).toBe(0);
    expect(run.stdout, 'an empty outbox').toContain('OUTBOX cli_empty.outbox: empty (no job waiting for a relay)');
    const emptyJson = JSON.parse((await runInProcess(['stats', withSchema('cli_empty'), '--json'])).stdout);
    expect(emptyJson.outbox, 'an empty outbox in --json').toEqual({
      table: 'cli_empty.outbox',
      backlog: 0,
      lagMs: 0,
      queues: [],
      failed: 0,
    });

    // A row a relay set aside (the target refused it for good): no relay forwards it any more.
    await empty.pool.query(
      `insert into cli_empty.outbox_failed (seq, queue, id, body, created_at, error_code, error, failed_at)
       values (1, 'default', 'job-1', '{}', 0, 'PAYLOAD_TOO_LARGE', 'too large for the target', 0)`,
    );
    const failed = await runInProcess(['stats', withSchema('cli_empty')]);
    expect(failed.stdout, 'set-aside rows are shown').toContain(
      'OUTBOX cli_empty.outbox: 1 job(s) set aside in cli_empty.outbox_failed',
    );
    const failedJson = JSON.parse((await runInProcess(['stats', withSchema('cli_empty'), '--json'])).stdout);
    expect(failedJson.outbox?.failed, 'set-aside rows in --json').toBe(1);

    await empty.pool.query('drop table cli_empty.outbox');
    const none = await runInProcess(['stats', withSchema('cli_empty'), '--json']);
    expect(none.code, `bgctl stats --json without an outbox table: ${none.stderr}`).toBe(0);
    expect(JSON.parse(none.stdout), 'no outbox key without the table').not.toHaveProperty('outbox');
    const noneTable = await runInProcess(['stats', withSchema('cli_empty')]);
    expect(noneTable.stdout, 'no OUTBOX line without the table').not.toContain('OUTBOX');
  });
});
