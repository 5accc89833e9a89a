/**
 * `pnpm demo`: starts a durable local backend (Azurite unless `BG_URL` names another), the web
 * service and two workers; sends a few hundred signups; `kill -9`s one worker in the middle
 * of its jobs and recycles the other with SIGTERM; shows that every job completed, that the
 * poison job waits in the dead letters with its reason, and that `bgctl dead replay` brings it
 * back once fixed. On PostgreSQL it also runs the outbox path: each signup commits its user row
 * and its jobs in one transaction, a relay process forwards them, is `kill -9`ed while rows wait,
 * and a signup rolled back after its jobs were written leaves nothing. Ends with one JSON line
 * (the machine-readable summary).
 *
 * Environment: `BG_URL` (a backend URL, or `azurite` | `pubsub` | `sqs` | `redis` | `postgres` to start a
 * local one; default `azurite`), `DEMO_SIGNUPS` (300), `DEMO_RATE` (signups/s, 25),
 * `DEMO_LEASE_MS` (5000), `DEMO_GRACE_MS` (3000), `BG_DEMO_DIR` (data, ledgers and logs;
 * default `apps/example/.bg-data/demo`, wiped at the start of each run).
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Adapter, createQueue, redactUrl } from '@bg/core';
import type { PostgresAdapter } from '@bg/postgres';
import { bgctlAvailable, runBgctl } from './bg-cli.js';
import { type Child, startChild } from './child-process.js';
import { connectBackend } from './connect-backend.js';
import { bold, detail, dim, green, red, say, step, verdict } from './console-ui.js';
import { demoOutboxStats, jobTraces, type OutboxDb, type RolledBackSignup, rollBackASignup, usersStored } from './demo-outbox.js';
import { type DemoSummary, type ExpectedJob, type OutboxFacts, type SeenDeadLetter, seconds, summarize } from './demo-report.js';
import { welcomeEmailV1 } from './jobs.js';
import { type LedgerEntry, readLedgers } from './ledger.js';
import { type DemoBackend, startDemoBackend } from './local-backend.js';
import { ensureUsersTable, USERS_TABLE } from './outbox-signups.js';
import { type SignupResult, sendSignups } from './traffic.js';

const env = process.env;
const intEnv = (name: string, fallback: number): number => {
  const raw = env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return n;
};

const startedAt = Date.now();
const appDir = fileURLToPath(new URL('..', import.meta.url));
const demoDir = resolve(env.BG_DEMO_DIR ?? join(appDir, '.bg-data', 'demo'));
const ledgerDir = join(demoDir, 'ledger');
const logDir = join(demoDir, 'logs');
const heicFlagFile = join(demoDir, 'heic-support-deployed.flag');
const signupCount = Math.floor(intEnv('DEMO_SIGNUPS', 300));
const rate = intEnv('DEMO_RATE', 25);
const wantedLeaseMs = intEnv('DEMO_LEASE_MS', 5_000);
const graceMs = intEnv('DEMO_GRACE_MS', 3_000);
const concurrency = 8;
const legacyCount = 5;
const queueName = env.BG_QUEUE ?? `demo-${Date.now().toString(36)}`;
const shown = (path: string): string => relative(process.cwd(), path) || '.';

const children = new Set<Child>();
let backend: DemoBackend | undefined;
let adapter: Adapter | undefined;
let cleaning = false;

/** Stops everything this demo started (children by PID, then the backend). */
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  for (const child of children) child.signal('SIGTERM');
  await Promise.race([
    Promise.all([...children].map((child) => child.exited)),
    new Promise((r) => setTimeout(r, graceMs + 5_000)),
  ]);
  for (const child of children) child.signal('SIGKILL');
  await adapter?.close().catch(() => {});
  await backend?.stop().catch(() => {});
}

process.once('SIGINT', () => {
  say(red('\ninterrupted: stopping the demo processes'));
  void cleanup().finally(() => process.exit(130));
});

function inFlight(ledger: readonly LedgerEntry[], worker: string, type?: string): number {
  const open = new Set<string>();
  for (const entry of ledger) {
    if (entry.w !== worker || !('id' in entry)) continue;
    if (entry.e === 'start') {
      if (type === undefined || entry.type === type) open.add(entry.id);
    } else open.delete(entry.id);
  }
  return open.size;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function workerEnv(name: string, url: string, extra: Readonly<Record<string, string>>, leaseMs: number): NodeJS.ProcessEnv {
  return {
    ...env,
    ...extra,
    BG_URL: url,
    BG_QUEUE: queueName,
    BG_WORKER_NAME: name,
    BG_LEDGER_DIR: ledgerDir,
    BG_CONCURRENCY: String(concurrency),
    BG_LEASE_MS: String(leaseMs),
    BG_GRACE_MS: String(graceMs),
    BG_HEIC_FLAG_FILE: heicFlagFile,
  };
}

async function startWorker(name: string, url: string, extra: Readonly<Record<string, string>>, leaseMs: number): Promise<Child> {
  const child = startChild(
    name,
    join(appDir, 'src', 'worker.ts'),
    workerEnv(name, url, extra, leaseMs),
    join(logDir, `${name}.log`),
  );
  children.add(child);
  await child.waitForLine((line) => line.includes('working on'), 60_000);
  return child;
}

/** Starts an outbox relay process (PostgreSQL), resolved once it relays. */
async function startRelayProcess(name: string, url: string, extra: Readonly<Record<string, string>>): Promise<Child> {
  const child = startChild(
    name,
    join(appDir, 'src', 'relay.ts'),
    { ...env, ...extra, BG_URL: url, BG_RELAY_NAME: name },
    join(logDir, `${name}.log`),
  );
  children.add(child);
  await child.waitForLine((line) => line.startsWith('{"relaying"'), 60_000);
  return child;
}

async function main(): Promise<DemoSummary> {
  rmSync(demoDir, { recursive: true, force: true });
  mkdirSync(ledgerDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  say(bold('bg demo — a web service that fires and forgets background work, and survives its workers dying'));
  say(dim(`data, ledgers and logs in ${shown(demoDir)}`));

  // 1. Backend --------------------------------------------------------------------------
  step(1, 'Backend', startedAt);
  backend = await startDemoBackend(env.BG_URL, demoDir);
  // e.g. the emulator's dummy AWS credentials, for this process's own client too
  Object.assign(process.env, backend.env);
  const url = backend.url;
  adapter = await connectBackend(url);
  const caps = adapter.capabilities;
  const leaseMs = Math.min(Math.max(wantedLeaseMs, caps.minLeaseMs), caps.maxLeaseMs);
  detail(`${backend.description}`);
  detail(`BG_URL=${redactUrl(url)}`);
  // The queue is created once, by an operator (as in production), not by the service.
  const cliEnv: NodeJS.ProcessEnv = { ...env, ...backend.env, BG_URL: url };
  const bgctl = bgctlAvailable();
  if (bgctl) {
    detail(dim(`$ bgctl queue create ${queueName}`));
    const created = await runBgctl(['queue', 'create', queueName], cliEnv);
    for (const line of (created.stdout + created.stderr).trimEnd().split('\n')) detail(`  ${line}`);
    if (created.code !== 0) throw new Error(`bgctl queue create ${queueName} failed (exit ${created.code})`);
  } else {
    await adapter.ensureQueue(queueName);
  }
  detail(`adapter ${bold(adapter.name)} · queue ${bold(queueName)} (created with its dead-letter store)`);
  // PostgreSQL: the signups go through the transactional outbox, next to the application's rows.
  const outboxDb: OutboxDb | undefined =
    adapter.name === 'postgres'
      ? { pool: (adapter as PostgresAdapter).pool, schema: (adapter as PostgresAdapter).schema }
      : undefined;
  if (outboxDb) {
    await ensureUsersTable(outboxDb.pool);
    detail(`the application's table ${bold(USERS_TABLE)} lives in the same database as the queue and its outbox`);
  }
  if (leaseMs !== wantedLeaseMs) detail(dim(`lease ${seconds(leaseMs)}: the shortest ${adapter.name} allows`));

  // 2. Service and workers ----------------------------------------------------------------
  step(2, `Web service and two worker processes${outboxDb ? ', and the outbox relay' : ''}`, startedAt);
  const service = startChild(
    'service',
    join(appDir, 'src', 'service.ts'),
    { ...env, ...backend.env, BG_URL: url, BG_QUEUE: queueName, PORT: '0', ...(outboxDb ? { BG_OUTBOX: '1' } : {}) },
    join(logDir, 'service.log'),
  );
  children.add(service);
  // The first relay forwards slowly (a queue on the far side of a slow link: 5 rows per send,
  // 250 ms each), so jobs wait in the outbox when it is killed.
  const slowRelay = { BG_RELAY_BATCH: '5', BG_RELAY_SEND_DELAY_MS: '250' };
  const [listening, w1, w2, r1] = await Promise.all([
    service.waitForLine((line) => line.startsWith('{"listening"'), 60_000),
    startWorker('w1', url, backend.env, leaseMs),
    startWorker('w2', url, backend.env, leaseMs),
    outboxDb ? startRelayProcess('r1', url, { ...backend.env, ...slowRelay }) : undefined,
  ]);
  const port = (JSON.parse(listening) as { listening: number }).listening;
  const baseUrl = `http://127.0.0.1:${port}`;
  detail(`service pid ${service.pid}: POST ${baseUrl}/signup · GET ${baseUrl}/jobs/stats`);
  detail(
    `workers w1 (pid ${w1.pid}) and w2 (pid ${w2.pid}): concurrency ${concurrency}, lease ${seconds(leaseMs)}, grace ${seconds(graceMs)}`,
  );
  if (r1) {
    detail(`outbox relay r1 (pid ${r1.pid}): forwards committed outbox rows to the queue, slowly (5 rows per send, 250 ms each)`);
  }

  // 3. Traffic ------------------------------------------------------------------------------
  step(3, `Traffic: ${signupCount} signups at ${rate}/s`, startedAt);
  const legacyQueue = createQueue({ adapter, queue: queueName });
  const expected: ExpectedJob[] = [];
  for (let i = 0; i < legacyCount; i++) {
    const { id } = await legacyQueue.enqueue(welcomeEmailV1, { userId: `legacy-${i}`, email: `legacy${i}@example.com` });
    expected.push({ id, type: 'email.welcome', poison: false, legacy: true });
  }
  detail(`an old release of the service still running enqueued ${legacyCount} welcome emails at payload v1`);
  detail('each signup stores a welcome email (v2) and, for 2 in 3, an avatar thumbnail; 1 in 100 avatars is a .heic');
  if (outboxDb) {
    detail(
      `through the outbox: one transaction inserts the user into ${USERS_TABLE} and its jobs into the outbox, then commits;`,
    );
    detail('they commit together or not at all, and the relay forwards the jobs once committed');
  }
  detail(dim('image the thumbnailer cannot decode yet: permanentError → dead letter'));
  const traffic = sendSignups({ baseUrl, count: signupCount, ratePerSecond: rate });
  let ledger: LedgerEntry[] = [];
  const refreshLedger = (): LedgerEntry[] => {
    ledger = readLedgers(ledgerDir);
    return ledger;
  };
  let lastProgress = 0;
  const progress = async (force = false): Promise<void> => {
    if (!force && Date.now() - lastProgress < 2_000) return;
    lastProgress = Date.now();
    const done = new Set(refreshLedger().flatMap((e) => (e.e === 'done' ? [e.id] : []))).size;
    let queue = '';
    try {
      const res = await fetch(`${baseUrl}/jobs/stats`, { signal: AbortSignal.timeout(2_000) });
      const s = (await res.json()) as Record<'ready' | 'inFlight' | 'delayed' | 'dead', number | null>;
      // A count the backend cannot know is null: shown as "?", never as 0.
      const n = (count: number | null): string => (count === null ? '?' : String(count));
      queue = ` · GET /jobs/stats: ready ${n(s.ready)}, in flight ${n(s.inFlight)}, delayed ${n(s.delayed)}, dead ${n(s.dead)}`;
    } catch {
      queue = '';
    }
    say(dim(`    … signups answered ${traffic.answered()}/${signupCount} · jobs completed ${done}${queue}`));
  };
  const ticker = setInterval(() => void progress(), 500);

  // 3a/3b. The outbox (PostgreSQL): a rolled-back signup, then kill -9 of the relay -------------
  let rolledBack: RolledBackSignup | undefined;
  let relayKilled: OutboxFacts['relayKilled'] | undefined;
  let whileDown: OutboxFacts['whileDown'] = { backlog: 0, lagMs: 0 };
  if (outboxDb && r1) {
    rolledBack = await rollBackASignup(outboxDb, queueName, caps);
    step('3a', 'A signup whose transaction rolls back after its jobs were written', startedAt);
    detail(`user ${rolledBack.userId}: row inserted, ${rolledBack.jobIds.length} job(s) written to the outbox`);
    detail(`(${rolledBack.jobIds.join(', ')}), then "${rolledBack.reason}" → rollback: the jobs must never exist`);

    await traffic.whenAnswered(Math.floor(signupCount * 0.1));
    const db = outboxDb;
    let backlog = 0;
    await waitFor(async () => {
      backlog = (await demoOutboxStats(db)).backlog;
      return backlog >= 3;
    }, 5_000);
    const killedAt = Date.now();
    r1.signal('SIGKILL');
    await r1.exited;
    relayKilled = { relay: 'r1', pid: r1.pid, at: killedAt, backlog };
    step('3b', `kill -9 the outbox relay r1 (pid ${r1.pid}) with ${backlog} job(s) waiting to be relayed`, startedAt);
    detail('its batch in flight rolls back with its connection: those rows stay in the outbox; signups keep committing');
    // The outbox fills up for a moment with no relay running; an operator looks at it, and
    // the supervisor starts r2.
    await waitFor(async () => (await demoOutboxStats(db)).lagMs >= 1_000, 3_000, 100);
    if (bgctl) {
      detail(dim(`$ bgctl stats --queue ${queueName}`));
      const stats = await runBgctl(['stats', '--queue', queueName], cliEnv);
      for (const line of (stats.stdout + stats.stderr).trimEnd().split('\n')) detail(line ? `  ${line}` : '');
    }
    whileDown = await demoOutboxStats(db);
    detail(
      `outbox backlog ${whileDown.backlog}, oldest row ${seconds(whileDown.lagMs)}: nobody relays, the signups still commit`,
    );
    const r2 = await startRelayProcess('r2', url, backend.env);
    detail(`the supervisor started relay r2 (pid ${r2.pid}): it takes the waiting rows, those r1 held among them`);
  }

  // 4. kill -9 ------------------------------------------------------------------------------
  await traffic.whenAnswered(Math.floor(signupCount * 0.2));
  // Kill it in the middle of its jobs: while it runs thumbnails (100–300 ms each), or at
  // least one job, so the kill lands between receive and ack.
  // w1 is the one to kill; when the backend hands all the work to w2 for a while (a Pub/Sub
  // pull may take every message there is), w2 is killed instead and w1 recycled after.
  const workers = { w1, w2 };
  const killWaitFrom = Date.now();
  const busy = (entries: readonly LedgerEntry[], name: 'w1' | 'w2'): boolean =>
    inFlight(entries, name, 'image.thumbnail') >= 2 || (Date.now() - killWaitFrom > 3_000 && inFlight(entries, name) >= 1);
  let victim: 'w1' | 'w2' = 'w1';
  await waitFor(() => {
    const entries = refreshLedger();
    if (busy(entries, 'w1')) return true;
    if (Date.now() - killWaitFrom > 6_000 && busy(entries, 'w2')) {
      victim = 'w2';
      return true;
    }
    return false;
  }, 15_000);
  const survivor: 'w1' | 'w2' = victim === 'w1' ? 'w2' : 'w1';
  const killed = workers[victim];
  const recycled = workers[survivor];
  const killedAt = Date.now();
  killed.signal('SIGKILL');
  await killed.exited;
  step(4, `kill -9 ${victim} (pid ${killed.pid}) in the middle of its jobs`, startedAt);
  detail(`it had ${inFlight(refreshLedger(), victim)} job(s) started and not finished; their leases stay with the queue,`);
  detail('so those jobs reappear when the leases run out');
  // A supervisor (systemd, Kubernetes …) restarts it; it takes a moment to boot.
  const w3 = startWorker('w3', url, backend.env, leaseMs);
  detail('the supervisor starts w3 in its place');

  // 5. SIGTERM ------------------------------------------------------------------------------
  await traffic.whenAnswered(Math.floor(signupCount * 0.35));
  step(5, `Rolling deploy: w4 (the new release) starts, then ${survivor} gets SIGTERM`, startedAt);
  const w4 = await startWorker('w4', url, backend.env, leaseMs);
  detail(`w3 (pid ${(await w3).pid}) and w4 (pid ${w4.pid}) are up`);
  const termWaitFrom = Date.now();
  await waitFor(() => {
    const entries = refreshLedger();
    return (
      inFlight(entries, survivor, 'image.thumbnail') >= 2 ||
      (Date.now() - termWaitFrom > 3_000 && inFlight(entries, survivor) >= 1)
    );
  }, 10_000);
  const recycledAt = Date.now();
  recycled.signal('SIGTERM');
  detail(
    `SIGTERM → ${survivor} (pid ${recycled.pid}) with ${inFlight(ledger, survivor)} job(s) in flight: it stops taking work, aborts the handlers' signals,`,
  );
  detail(`waits up to ${seconds(graceMs)} for them, and hands unfinished jobs back at once`);
  const recycledExit = await recycled.exited;
  const recycledExitMs = Date.now() - recycledAt;
  detail(`${survivor} exited (${String(recycledExit)}) after ${seconds(recycledExitMs)}`);

  // 6. Settle -------------------------------------------------------------------------------
  const results: SignupResult[] = await traffic.done;
  for (const r of results) {
    if (!r.response) continue;
    expected.push({ id: r.response.jobs.welcomeEmail, type: 'email.welcome', poison: false, legacy: false });
    if (r.response.jobs.avatarThumbnail) {
      expected.push({ id: r.response.jobs.avatarThumbnail, type: 'image.thumbnail', poison: r.poison, legacy: false });
    }
  }
  const failed = results.filter((r) => !r.response);
  const latencies = results.flatMap((r) => (r.response ? [r.latencyMs] : [])).sort((a, b) => a - b);
  const p50 = latencies[Math.floor(latencies.length / 2)] ?? 0;
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0;
  step(6, 'All signups answered; waiting for the workers to finish', startedAt);
  detail(
    `${results.length - failed.length}/${signupCount} answered 202 (p50 ${p50} ms, p99 ${p99} ms: the work was stored, not done) → ${expected.length} jobs enqueued`,
  );
  for (const f of failed.slice(0, 3)) detail(red(`signup ${f.index} failed: ${f.error}`));
  const poisonIds = new Set(expected.filter((j) => j.poison).map((j) => j.id));
  const deadSeen = new Set<string>();
  const settled = async (): Promise<boolean> => {
    const entries = refreshLedger();
    const done = new Set(entries.flatMap((e) => (e.e === 'done' ? [e.id] : [])));
    for (const e of entries) if (e.e === 'dead') deadSeen.add(e.id);
    if (!expected.every((j) => done.has(j.id) || poisonIds.has(j.id))) return false;
    for (const id of poisonIds) {
      // A worker killed right after dead-lettering never logged it: ask the backend.
      if (!done.has(id) && !deadSeen.has(id) && (await adapter?.getDeadLetter(queueName, id))) deadSeen.add(id);
    }
    return [...poisonIds].every((id) => done.has(id) || deadSeen.has(id));
  };
  const settleOk = await waitFor(settled, 30_000 + 2 * leaseMs, 100);
  clearInterval(ticker);
  await progress(true);
  if (!settleOk) detail(red('some jobs did not finish within the deadline'));

  // 7. Poison -------------------------------------------------------------------------------
  step(7, 'Poison: the dead letters', startedAt);
  const deadBeforeFix: SeenDeadLetter[] = [];
  for (let cursor: string | undefined, first = true; first || cursor; first = false) {
    const page = await adapter.listDeadLetters(queueName, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const d of page.items) {
      deadBeforeFix.push({ id: d.id, reason: d.reason, attempts: d.attempts, error: d.error?.message ?? '' });
    }
    cursor = page.cursor;
  }
  if (bgctl) {
    detail(dim(`$ bgctl dead list --queue ${queueName}`));
    const list = await runBgctl(['dead', 'list', '--queue', queueName], cliEnv);
    for (const line of (list.stdout + list.stderr).trimEnd().split('\n')) detail(`  ${line}`);
  } else {
    for (const d of deadBeforeFix) detail(`${d.id}  ${d.reason}  attempts ${d.attempts}  ${d.error}`);
  }

  // 8. Fix and replay -----------------------------------------------------------------------
  step(8, 'Fix deployed (HEIC support), then replay', startedAt);
  const fixAt = Date.now();
  writeFileSync(heicFlagFile, `deployed ${new Date(fixAt).toISOString()}\n`);
  let replayed = 0;
  let replayVia: string;
  if (bgctl) {
    replayVia = 'bgctl dead replay';
    detail(dim(`$ bgctl dead replay --queue ${queueName} --all --yes`));
    const run = await runBgctl(['dead', 'replay', '--queue', queueName, '--all', '--yes'], cliEnv);
    for (const line of (run.stdout + run.stderr).trimEnd().split('\n')) detail(`  ${line}`);
    replayed = Number(/replayed (\d+) of/.exec(run.stdout)?.[1] ?? 0);
  } else {
    replayVia = 'queue.deadLetters.replay(id) (bgctl is not linked or @bg/cli is not built)';
    for (const d of deadBeforeFix) if (await legacyQueue.deadLetters.replay(d.id)) replayed++;
    detail(`replayed ${replayed} dead letter(s) through ${replayVia}`);
  }
  const replayOk = await waitFor(
    async () => (await settled()) && [...poisonIds].every((id) => ledger.some((e) => e.e === 'done' && e.id === id)),
    20_000 + 2 * leaseMs,
    100,
  );
  if (!replayOk) detail(red('the replayed jobs did not complete within the deadline'));
  const deadAtEnd = (await adapter.listDeadLetters(queueName, { limit: 100 })).items.length;

  // 9. Summary ------------------------------------------------------------------------------
  let outbox: OutboxFacts | undefined;
  if (outboxDb && relayKilled && rolledBack) {
    const userIds = results.flatMap((r) => (r.response ? [r.response.userId] : []));
    outbox = {
      committedSignups: userIds.length,
      usersStored: await usersStored(outboxDb, userIds),
      relayKilled,
      whileDown,
      backlogAtEnd: (await demoOutboxStats(outboxDb)).backlog,
      rolledBack: {
        userId: rolledBack.userId,
        jobIds: rolledBack.jobIds,
        userRows: await usersStored(outboxDb, [rolledBack.userId]),
        jobTraces: await jobTraces(outboxDb, rolledBack.jobIds, readLedgers(ledgerDir)),
      },
    };
  }

  step(9, `Stopping the service, the workers${outboxDb ? ' and the relay' : ''} (SIGTERM)`, startedAt);
  await cleanupChildren();
  const summary = summarize({
    backend: adapter.name,
    url: redactUrl(url),
    queue: queueName,
    leaseMs,
    graceMs,
    signups: signupCount,
    signupsFailed: failed.length,
    expected,
    ledger: readLedgers(ledgerDir),
    killed: { worker: victim, pid: killed.pid, at: killedAt },
    recycled: { worker: survivor, pid: recycled.pid, at: recycledAt, exitedAfterMs: recycledExitMs },
    fixAt,
    deadBeforeFix,
    replayVia,
    replayed,
    deadAtEnd,
    durationMs: Date.now() - startedAt,
    ...(outbox ? { outbox } : {}),
  });
  say();
  say(bold(`What happened (${summary.backend}, ${seconds(summary.durationMs)})`));
  for (const check of summary.checks) verdict(check.ok, check.text);
  say();
  say(summary.ok ? green(bold('✔ nothing lost')) : red(bold('✘ the demo found a problem (see above)')));
  detail(dim(`ledgers: ${shown(ledgerDir)} · logs: ${shown(logDir)}`));
  say();
  say('See the queue, its charts and dead letters in the browser (while the backend runs):');
  detail(`$ bgctl dashboard '${redactUrl(url)}' --queue ${queueName}`);
  return summary;
}

async function cleanupChildren(): Promise<void> {
  for (const child of children) child.signal('SIGTERM');
  const all = Promise.all([...children].map((child) => child.exited));
  if (!(await Promise.race([all.then(() => true), new Promise((r) => setTimeout(r, graceMs + 5_000, false))]))) {
    for (const child of children) child.signal('SIGKILL');
  }
}

let exitCode = 1;
try {
  const summary = await main();
  exitCode = summary.ok ? 0 : 1;
  await cleanup();
  say(JSON.stringify(summary));
} catch (error) {
  say(red(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
  await cleanup();
  say(JSON.stringify({ bgDemo: 1, ok: false, error: error instanceof Error ? error.message : String(error) }));
}
process.exit(exitCode);
