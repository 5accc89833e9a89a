import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, startPostgres } from '@bg/backends/postgres';
import { createQueue, createWorker, type Worker } from '@bg/core';
import { type PostgresAdapter, postgresAdapter } from '@bg/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOutboxStats, jobTraces, type OutboxDb, rollBackASignup, usersStored } from '../src/demo-outbox.js';
import { registerHandlers } from '../src/handlers.js';
import { createApp, type SignupResponse } from '../src/http-app.js';
import type { LedgerEntry } from '../src/ledger.js';
import { ensureUsersTable, outboxSignupStore } from '../src/outbox-signups.js';

// The demo's outbox path on a private PostgreSQL, piece by piece and cheaply (the whole demo
// on PostgreSQL takes as long as on any other backend): the service's signup store, the relay
// PROCESS killed with SIGKILL while rows wait, a second relay, a worker, and the checks the
// demo's report makes.
const appDir = fileURLToPath(new URL('..', import.meta.url));
const QUEUE = 'signups';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts `src/relay.ts` as the demo does; resolves once it relays. */
async function startRelay(url: string, extra: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/relay.ts'], {
    cwd: appDir,
    env: { ...process.env, BG_URL: url, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('{"relaying"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the relay exited (${code}) before relaying: ${output}`)));
  });
  return child;
}

let server: PostgresServer | undefined;
try {
  // Throws in CI when PostgreSQL is missing; undefined (skip) on a laptop without it.
  server = await startPostgres();
} catch (error) {
  if (process.env.CI) throw error;
}

describe.skipIf(!server)('the outbox path of BG_URL=postgres pnpm demo (private PostgreSQL)', () => {
  const url = server?.url as string;
  let adapter: PostgresAdapter;
  let db: OutboxDb;
  let http: Server;
  let worker: Worker | undefined;
  const relays: ChildProcess[] = [];
  const ledger: LedgerEntry[] = [];

  beforeAll(async () => {
    adapter = postgresAdapter({ url });
    await adapter.ensureQueue(QUEUE);
    db = { pool: adapter.pool, schema: adapter.schema };
    await ensureUsersTable(db.pool);
    const store = outboxSignupStore(db.pool, { schema: db.schema, queue: QUEUE, capabilities: adapter.capabilities });
    http = createServer(createApp(createQueue({ adapter, queue: QUEUE }), { signups: store }));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
  });
  afterAll(async () => {
    for (const relay of relays) if (relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
    await worker?.stop({ graceMs: 1_000 });
    http?.close();
    await adapter?.close();
    await server?.stop();
  });

  it('signups commit with their jobs, a relay killed (-9) with rows waiting loses none, a rollback leaves nothing', async () => {
    // A slow relay (2 rows per send, 300 ms each), so that rows wait when it is killed.
    const r1 = await startRelay(url, { BG_RELAY_NAME: 'r1', BG_RELAY_BATCH: '2', BG_RELAY_SEND_DELAY_MS: '300' });
    relays.push(r1);
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const responses = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const res = await fetch(`${base}/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: `u${i}@example.com`, locale: 'de', avatarUrl: `https://cdn.example.com/${i}.png` }),
        });
        expect(res.status, `POST /signup ${i}`).toBe(202);
        return (await res.json()) as SignupResponse;
      }),
    );
    const jobIds = responses.flatMap((r) => [r.jobs.welcomeEmail, r.jobs.avatarThumbnail as string]);
    const rolledBack = await rollBackASignup(db, QUEUE, adapter.capabilities);
    expect(rolledBack.jobIds, 'the rolled-back signup had written its two jobs').toHaveLength(2);

    const backlogAtKill = (await demoOutboxStats(db)).backlog;
    expect(backlogAtKill, 'rows waiting in the outbox when r1 is killed').toBeGreaterThan(0);
    r1.kill('SIGKILL');
    await once(r1, 'exit');
    expect(
      (await demoOutboxStats(db)).backlog,
      "after the kill: nothing relayed by anyone, r1's batch in flight back in the outbox",
    ).toBeGreaterThan(0);

    relays.push(await startRelay(url, { BG_RELAY_NAME: 'r2' }));
    const w = createWorker({ adapter, queue: QUEUE, pollMs: 50, leaseMs: 5_000, concurrency: 8 });
    worker = w;
    registerHandlers(w, {
      workerName: 'w',
      ledger: { file: '(memory)', write: (e) => void ledger.push(e), close() {} },
      random: () => 0,
    });
    await w.start();
    const done = (): Set<string> => new Set(ledger.flatMap((e) => (e.e === 'done' ? [e.id] : [])));
    await until('every committed signup job to run', () => {
      const finished = done();
      return jobIds.every((id) => finished.has(id));
    });

    expect(
      await usersStored(
        db,
        responses.map((r) => r.userId),
      ),
      'user rows of the committed signups',
    ).toBe(12);
    expect((await demoOutboxStats(db)).backlog, 'outbox backlog at the end').toBe(0);
    expect(await usersStored(db, [rolledBack.userId]), 'user row of the rolled-back signup').toBe(0);
    expect(
      await jobTraces(db, rolledBack.jobIds, ledger),
      'traces of the rolled-back jobs (outbox, queue, dead letters, ledger)',
    ).toBe(0);
  });
});
