import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createQueue, type DeadLetter, isBgError, type QueueStats } from '@bg/core';
import type { AdapterName, ChaosBackend } from './backends.js';
import { bootTimings, median } from './boot-phases.js';
import type { TestOnlyBreakage } from './breakage.js';
import { type Garbage, garbageMarker, garbageSet } from './garbage.js';
import { flakyJob, healthyJob, type JobKind, poisonJob } from './jobs.js';
import { type LedgerEntry, readLedgers } from './ledger.js';
import type { ChaosProfile } from './profiles.js';
import { type WorkerExit, WorkerPool } from './worker-pool.js';

/** Redelivery after a kill: for each job the killed worker had started and not finished. */
export interface Redelivery {
  /** Jobs measured. */
  readonly count: number;
  readonly p50Ms: number;
  readonly maxMs: number;
  /** Open jobs of killed workers never started again (must be 0). */
  readonly unseen: number;
  /** The slowest one's path from the kill to its next start (see {@link redeliveryPath}); '' when none. */
  readonly slowest: string;
}

/** The outcome of one chaos run on one adapter. */
export interface ChaosReport {
  readonly adapter: AdapterName;
  readonly profile: string;
  /** The test-only breakage the workers ran with (`self-proof.test.ts`); absent in a real run. */
  readonly breakage?: TestOnlyBreakage;
  readonly enqueued: Readonly<Record<JobKind, number>>;
  readonly garbage: number;
  /** Jobs completed at least once. */
  readonly completed: number;
  /** Jobs completed more than once (at-least-once delivery after a kill). */
  readonly duplicates: number;
  /** Dead-letter records by reason (read from the backend through the adapter's dead-letter API). */
  readonly deadByReason: Readonly<Record<string, number>>;
  /** Healthy and flaky jobs neither completed nor dead-lettered. Must be empty. */
  readonly lost: readonly string[];
  /** Poison jobs and garbage missing from the dead letters. Must be empty. */
  readonly missingDead: readonly string[];
  /** Problems besides losses (healthy dead-lettered, garbage missing, worker deaths …). */
  readonly problems: readonly string[];
  readonly kills: number;
  /** The worker processes killed (`kill -9`) and when (epoch ms). */
  readonly killed: readonly { readonly id: string; readonly at: number }[];
  readonly redelivery: Redelivery;
  /** Worker processes' boot, fork to first `receive` (ms): p50, max, and how many booted that far. */
  readonly boot: { readonly p50Ms: number; readonly maxMs: number; readonly count: number };
  /** What was done to the backend. */
  readonly faults: string;
  /** Errors the workers logged (receive/ack/extend failures during restarts and outages). */
  readonly workerErrors: number;
  readonly unexpectedExits: readonly WorkerExit[];
  readonly drained: boolean;
  readonly leftover: QueueStats | undefined;
  readonly durationMs: number;
  readonly runDir: string;
  readonly ok: boolean;
  /** The one-line summary. */
  readonly line: string;
}

/** Options of {@link runChaos}. */
export interface RunChaosOptions {
  readonly backend: ChaosBackend;
  readonly profile: ChaosProfile;
  /** Folder for ledgers and worker logs. */
  readonly runDir: string;
  /** Progress messages. */
  readonly log?: (message: string) => void;
  /**
   * Tests only: run workers that lose jobs on purpose, to prove the verdict catches it
   * (`test/self-proof.test.ts`). Never set by the CLI or the CI chaos test.
   */
  readonly testOnlyBreakage?: TestOnlyBreakage;
}

function kindOf(i: number): JobKind {
  if (i % 100 === 50) return 'poison';
  if (i % 20 === 7) return 'flaky';
  return 'healthy';
}

const JOBS = { healthy: healthyJob, flaky: flakyJob, poison: poisonJob } as const;

async function allDeadLetters(backend: ChaosBackend, queue: string): Promise<DeadLetter[]> {
  const items: DeadLetter[] = [];
  let cursor: string | undefined;
  do {
    const page = await backend.adapter.listDeadLetters(queue, { limit: 100, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}

/**
 * Runs `read` until it does not fail with a retryable error (a backend the outage step just
 * brought back, whose client is still reconnecting), for at most 30 s.
 */
async function whenReachable<T>(read: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!isBgError(error) || !error.retryable || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

/** The dead letters sorted out: our jobs by id, garbage by marker (each with its reason), and the rest. */
interface SortedDeadLetters {
  readonly jobs: Map<string, string>;
  readonly garbage: Map<string, string>;
  readonly unexpected: DeadLetter[];
}

function sortDeadLetters(items: readonly DeadLetter[], kinds: ReadonlyMap<string, JobKind>): SortedDeadLetters {
  const sorted: SortedDeadLetters = { jobs: new Map(), garbage: new Map(), unexpected: [] };
  for (const d of items) {
    const marker = garbageMarker(d.body);
    if (marker) {
      sorted.garbage.set(marker, d.reason);
      continue;
    }
    let id = d.id;
    if (!kinds.has(id)) {
      try {
        id = (JSON.parse(d.body) as { id: string }).id;
      } catch {}
    }
    if (kinds.has(id)) sorted.jobs.set(id, d.reason);
    else sorted.unexpected.push(d);
  }
  return sorted;
}

/** Every poison job and every garbage message are in the dead letters. */
async function allDeadLettered(
  backend: ChaosBackend,
  queue: string,
  kinds: ReadonlyMap<string, JobKind>,
  poisonIds: readonly string[],
  garbage: readonly Garbage[],
): Promise<boolean> {
  let sorted: SortedDeadLetters;
  try {
    sorted = sortDeadLetters(await allDeadLetters(backend, queue), kinds);
  } catch {
    return false; // the backend may be stopped for the outage step: ask again next poll
  }
  return poisonIds.every((id) => sorted.jobs.has(id)) && garbage.every((g) => sorted.garbage.has(g.marker));
}

/** The queue holds no live message (ready, in flight or delayed), by the adapter's own counts. */
async function holdsNothingLive(backend: ChaosBackend, queue: string): Promise<boolean> {
  try {
    const stats = await backend.adapter.stats(queue);
    return stats.ready === 0 && stats.inFlight === 0 && stats.delayed === 0 && (stats.total ?? 0) === 0;
  } catch {
    return false; // the backend may be stopped for the outage step: ask again next poll
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/**
 * Time from each kill to the next start of every job the killed worker had in hand. Jobs in
 * `settled` (found in the dead letters) count as handled even without a later start: a killed
 * worker may dead-letter a job and die before it logs that.
 */
export function measureRedelivery(
  entries: readonly LedgerEntry[],
  kills: readonly { id: string; at: number }[],
  settled: ReadonlySet<string> = new Set(),
): Redelivery {
  const byJob = new Map<string, LedgerEntry[]>();
  for (const e of entries) {
    if (e.id === undefined) continue;
    const list = byJob.get(e.id);
    if (list) list.push(e);
    else byJob.set(e.id, [e]);
  }
  const latencies: number[] = [];
  let slowest: { id: string; kill: { id: string; at: number }; ms: number } | undefined;
  let unseen = 0;
  for (const kill of kills) {
    const open = new Set<string>();
    for (const e of entries) {
      if (e.id === undefined || e.t > kill.at) continue;
      if (e.w !== kill.id) {
        // Another worker took the job over before the kill (the killed worker's lease had run
        // out, e.g. its retry's release failed while the backend was down): not in its hand.
        if (e.e === 'start' || e.e === 'done' || e.e === 'dead') open.delete(e.id);
        continue;
      }
      if (e.e === 'start') open.add(e.id);
      else if (e.e === 'done' || e.e === 'retried' || e.e === 'dead' || e.e === 'deferred') open.delete(e.id);
    }
    for (const id of open) {
      const entriesOfJob = byJob.get(id) ?? [];
      // SIGKILL lands a moment after the harness notes it: what the killed worker itself
      // finished in that moment needs no redelivery.
      if (entriesOfJob.some((e) => e.w === kill.id && e.t > kill.at && (e.e === 'done' || e.e === 'dead'))) continue;
      const next = entriesOfJob.find(
        (e) => e.t >= kill.at && e.w !== kill.id && (e.e === 'start' || e.e === 'dead' || e.e === 'done'),
      );
      if (next) {
        latencies.push(next.t - kill.at);
        if (!slowest || next.t - kill.at > slowest.ms) slowest = { id, kill, ms: next.t - kill.at };
      }
      // Dead-lettered and removed by the killed worker before it could log it.
      else if (!settled.has(id)) unseen++;
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    maxMs: latencies.at(-1) ?? 0,
    unseen,
    slowest: slowest ? redeliveryPath(byJob.get(slowest.id) ?? [], kills, slowest.kill) : '',
  };
}

/**
 * What happened to one job between the kill of the worker that had it in hand and its next
 * start elsewhere: every delivery of it (`received` ledger lines) to a worker that was killed
 * before starting it, e.g. `job 0193… +40.5 s after w12's kill: received by w15 at +10.1 s
 * (killed at +10.9 s before starting it), …, started by w21 at +40.5 s`. Shows whether a slow
 * redelivery was later kills (one lease each) or a lease the backend kept longer.
 */
export function redeliveryPath(
  jobEntries: readonly LedgerEntry[],
  kills: readonly { id: string; at: number }[],
  kill: { id: string; at: number },
): string {
  const rel = (t: number): string => `+${((t - kill.at) / 1000).toFixed(1)} s`;
  const next = jobEntries.find((e) => e.t >= kill.at && e.w !== kill.id && (e.e === 'start' || e.e === 'dead' || e.e === 'done'));
  const end = next?.t ?? Number.POSITIVE_INFINITY;
  const hops: string[] = [];
  for (const e of jobEntries) {
    if (e.e !== 'received' || e.t < kill.at || e.t > end || e.w === kill.id) continue;
    const killed = kills.find((k) => k.id === e.w && k.at >= e.t && k.at <= end);
    const started = jobEntries.some((s) => s.w === e.w && s.e === 'start' && s.t >= e.t);
    if (killed && !started) hops.push(`received by ${e.w} at ${rel(e.t)} (killed at ${rel(killed.at)} before starting it)`);
    else if (!started) hops.push(`received by ${e.w} at ${rel(e.t)} (not started there)`);
  }
  const id = jobEntries[0]?.id ?? '?';
  const head = `job ${id} after ${kill.id}'s kill`;
  if (!next) return `${head}: ${[...hops, 'never started again'].join(', ')}`;
  return `${head}: ${[...hops, `${next.e === 'start' ? 'started' : next.e} by ${next.w} at ${rel(next.t)}`].join(', ')}`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * One chaos run: enqueue the profile's jobs, run worker processes, and while they drain
 * kill -9 a random one every second or so, inject garbage with the backend's own client,
 * restart the backend and stop it for a few seconds (where it persists); then check from
 * the ledgers and the dead letters that nothing was lost.
 */
export async function runChaos(options: RunChaosOptions): Promise<ChaosReport> {
  const { backend, profile, runDir } = options;
  mkdirSync(runDir, { recursive: true });
  const timeline = (message: string): void => appendFileSync(join(runDir, 'harness.log'), `${Date.now()} ${message}\n`);
  const log = (message: string): void => {
    timeline(message);
    options.log?.(message);
  };
  const started = Date.now();
  const queue = `chaos-${Date.now().toString(36)}`;
  const problems: string[] = [];
  await backend.adapter.ensureQueue(queue);

  // 1. Enqueue.
  const kinds = new Map<string, JobKind>();
  const enqueued: Record<JobKind, number> = { healthy: 0, flaky: 0, poison: 0 };
  const byKind: Record<JobKind, { n: number; workMs: number }[]> = { healthy: [], flaky: [], poison: [] };
  const [lo, hi] = profile.workMs;
  for (let i = 0; i < profile.jobs; i++) {
    byKind[kindOf(i)].push({ n: i, workMs: Math.round(lo + Math.random() * (hi - lo)) });
  }
  const producer = createQueue({ adapter: backend.adapter, queue });
  for (const kind of ['healthy', 'flaky', 'poison'] as const) {
    const payloads = byKind[kind];
    for (let i = 0; i < payloads.length; i += 500) {
      const results = await producer.enqueueMany(JOBS[kind], payloads.slice(i, i + 500));
      for (const r of results) kinds.set(r.id, kind);
    }
    enqueued[kind] = payloads.length;
  }
  log(`${backend.name}: enqueued ${profile.jobs} jobs in ${seconds(Date.now() - started)}`);

  // 2. Workers.
  const pool = new WorkerPool({
    backend,
    queue,
    runDir,
    concurrency: profile.concurrency,
    graceMs: profile.graceMs,
    ...(options.testOnlyBreakage ? { testOnlyBreakage: options.testOnlyBreakage } : {}),
  });
  for (let i = 0; i < profile.workers; i++) pool.spawn();
  const t0 = Date.now();
  const until = async (ms: number): Promise<void> => {
    const wait = t0 + ms - Date.now();
    if (wait > 0) await sleep(wait);
  };
  let finished = false;
  const faults: string[] = [];

  // 3. Faults on a schedule: garbage, then restart, then outage.
  const garbage: Garbage[] = [];
  const garbageStep = (async () => {
    await until(profile.garbageAtMs);
    for (const g of garbageSet(backend.raw)) {
      try {
        await backend.inject(queue, g.body);
        garbage.push(g);
      } catch (error) {
        problems.push(`could not inject ${g.kind} garbage: ${(error as Error).message}`);
      }
    }
    log(`${backend.name}: injected ${garbage.length} garbage messages`);
  })();
  // While the harness holds the backend down nobody can progress: not a stall.
  let backendDown = false;
  const backendStep = (async () => {
    try {
      await backendFaults();
    } catch (error) {
      // Reported, not thrown: the run goes on and its workers are still stopped and checked.
      backendDown = false;
      log(`${backend.name}: backend fault step failed: ${(error as Error).message}`);
      problems.push(`backend restart/outage failed: ${(error as Error).message}`);
    }
  })();
  async function backendFaults(): Promise<void> {
    if (backend.restart) {
      await until(profile.restartAtMs);
      const t = Date.now();
      log(`${backend.name}: restarting the backend`);
      backendDown = true;
      await backend.restart().finally(() => {
        backendDown = false;
      });
      log(`${backend.name}: backend is back`);
      faults.push(`restarted in ${seconds(Date.now() - t)}`);
    }
    if (backend.outage) {
      await until(profile.outageAtMs);
      const t = Date.now();
      log(`${backend.name}: stopping the backend for ${seconds(profile.outageMs)}`);
      backendDown = true;
      await backend.outage(profile.outageMs).finally(() => {
        backendDown = false;
      });
      log(`${backend.name}: backend is back`);
      faults.push(`stopped ${seconds(Date.now() - t)}`);
    }
  }

  // 4. Kill -9 a random worker every second or so, and start a new one.
  const killStep = (async () => {
    while (!finished && pool.kills.length < profile.maxKills) {
      await sleep(profile.killEveryMs * (0.75 + Math.random() / 2));
      if (finished) break;
      // A process still booting has nothing in hand: kill one that is receiving.
      const live = pool.ready;
      const victim = live[Math.floor(Math.random() * live.length)];
      if (!victim) continue;
      pool.kill(victim);
      const next = pool.spawn();
      timeline(`kill -9 ${victim.id}, started ${next.id}`);
    }
  })();

  // 5. Wait until every job is completed or dead-lettered (as the ledgers tell).
  const poisonIds = [...kinds].filter(([, k]) => k === 'poison').map(([id]) => id);
  const mustComplete = [...kinds].filter(([, k]) => k !== 'poison').map(([id]) => id);
  let drained = false;
  // Stopped waiting before the deadline (stalled, or jobs lost for good): already a problem.
  let gaveUp = false;
  const pollMs = profile.jobs > 2_000 ? 2_000 : 500;
  let lastReport = Date.now();
  let progress = '';
  let progressAt = Date.now();
  // The no-progress window: 20 s or four leases, and at least three median worker boots so
  // far (on a loaded box a worker that gets a job after its holder's kill may itself be a
  // fresh process still booting: the last few jobs then move once per boot, not per lease).
  const baseStallMs = Math.max(20_000, 4 * backend.leaseMs);
  let stallMs = baseStallMs;
  const loads: number[] = [];
  while (Date.now() < t0 + profile.deadlineMs) {
    await sleep(pollMs);
    loads.push(loadavg()[0] ?? 0);
    const entries = readLedgers(runDir);
    const done = new Set<string>();
    const dead = new Set<string>();
    let lastDoneAt = t0;
    for (const e of entries) {
      if (e.id === undefined) continue;
      if (e.e === 'done') {
        done.add(e.id);
        lastDoneAt = Math.max(lastDoneAt, e.t);
      } else if (e.e === 'dead') dead.add(e.id);
    }
    const deadForeign = [...dead].filter((id) => !kinds.has(id)).length;
    const remaining = mustComplete.filter((id) => !done.has(id)).length;
    const signature = `${done.size}/${dead.size}`;
    const firstReceive = new Map<string, number>();
    for (const e of entries) if (e.e === 'boot' && e.phase === 'receive' && !firstReceive.has(e.w)) firstReceive.set(e.w, e.t);
    const bootP50 =
      median(pool.spawned.map((w) => (firstReceive.has(w.id) ? (firstReceive.get(w.id) ?? 0) - w.at : undefined))) ?? 0;
    stallMs = Math.max(baseStallMs, 3 * bootP50);
    // Nor is a moment with every worker still booting (a loaded box boots slowly: the
    // summary's boot figure shows it; the deadline still bounds the run).
    if (signature !== progress || backendDown || pool.ready.length === 0) {
      progress = signature;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > stallMs && pool.kills.length >= Math.min(profile.maxKills, 1)) {
      log(`${backend.name}: no progress for ${seconds(stallMs)}, giving up`);
      problems.push(`stalled: nothing completed or dead-lettered for ${seconds(stallMs)}`);
      gaveUp = true;
      break;
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      log(`${backend.name}: ${remaining} jobs to go, ${pool.kills.length} kills, ${seconds(Date.now() - t0)}`);
    }
    // Lost for good: jobs are missing, no job completed for a lease, and the backend, where
    // its counts are exact, holds no live message that could still bring them (a job a live
    // worker holds is in flight; one a killed worker held is in flight until its lease ends,
    // then ready). Waiting out the stall window would only delay the verdict.
    if (
      remaining > 0 &&
      backend.exactStats &&
      !backendDown &&
      Date.now() - lastDoneAt > backend.leaseMs &&
      (await holdsNothingLive(backend, queue))
    ) {
      // A job completed (ledger line, then ack) just before the counts were read is in the
      // ledgers by now: count again.
      const doneNow = new Set(readLedgers(runDir).flatMap((e) => (e.e === 'done' && e.id !== undefined ? [e.id] : [])));
      const missing = mustComplete.filter((id) => !doneNow.has(id)).length;
      if (missing > 0) {
        log(`${backend.name}: ${missing} jobs missing and the backend holds nothing live, giving up`);
        problems.push(
          `${missing} jobs never completed while the backend held no live message (none completed for ${seconds(Date.now() - lastDoneAt)})`,
        );
        gaveUp = true;
        break;
      }
    }
    const ledgersSayDone = poisonIds.every((id) => dead.has(id)) && deadForeign >= garbage.length;
    if (
      remaining === 0 &&
      pool.kills.length >= Math.min(profile.maxKills, 1) &&
      // The dead letters themselves are the truth: a killed worker may dead-letter a job and
      // die before it logs that.
      (ledgersSayDone || (await allDeadLettered(backend, queue, kinds, poisonIds, garbage)))
    ) {
      await Promise.all([garbageStep, backendStep]);
      drained = true;
      break;
    }
  }
  finished = true;
  await Promise.all([killStep, garbageStep, backendStep]);
  const drainMs = Date.now() - t0;
  log(`${backend.name}: ${drained ? 'drained' : 'NOT drained'} after ${seconds(drainMs)}; stopping the workers`);
  await pool.stopAll(profile.graceMs + 15_000);

  // 6. Check.
  const entries = readLedgers(runDir);
  const completions = new Map<string, number>();
  let workerErrors = 0;
  for (const e of entries) {
    if (e.e === 'done' && e.id !== undefined) completions.set(e.id, (completions.get(e.id) ?? 0) + 1);
    if (e.e === 'error') workerErrors++;
  }
  // The outage step may have just ended: the harness's own client may still be reconnecting.
  const deadLetters = await whenReachable(() => allDeadLetters(backend, queue));
  const deadByReason: Record<string, number> = {};
  for (const d of deadLetters) deadByReason[d.reason] = (deadByReason[d.reason] ?? 0) + 1;
  const { jobs: deadJobs, garbage: deadGarbage, unexpected } = sortDeadLetters(deadLetters, kinds);
  for (const d of unexpected) problems.push(`unexpected dead letter ${d.id} (${d.reason}): ${d.body.slice(0, 80)}`);
  const lost: string[] = [];
  const missingDead: string[] = [];
  for (const [id, kind] of kinds) {
    const reason = deadJobs.get(id);
    if (kind === 'poison') {
      if (completions.has(id)) problems.push(`poison job ${id} completed`);
      if (reason === undefined) missingDead.push(`poison ${id}`);
      else if (reason !== 'max-attempts') problems.push(`poison job ${id} dead-lettered ${reason}, not max-attempts`);
    } else {
      if (reason !== undefined) problems.push(`${kind} job ${id} dead-lettered (${reason})`);
      else if (!completions.has(id)) lost.push(`${kind} ${id}`);
    }
  }
  for (const g of garbage) {
    const reason = deadGarbage.get(g.marker);
    if (reason === undefined) missingDead.push(`garbage ${g.kind}`);
    else if (reason !== g.reason) problems.push(`garbage ${g.kind} dead-lettered ${reason}, expected ${g.reason}`);
  }
  for (const m of missingDead) problems.push(`missing from the dead letters: ${m}`);
  if (lost.length > 0 && backend.diagnose) {
    try {
      const ids = lost.map((l) => l.split(' ')[1] ?? '').filter((id) => kinds.has(id));
      for (const d of await backend.diagnose(queue, ids)) problems.push(`diagnosis: ${d}`);
    } catch (error) {
      problems.push(`diagnosis failed: ${(error as Error).message}`);
    }
  }
  const unexpectedExits = pool.exits.filter((x) => !x.expected);
  for (const x of unexpectedExits) problems.push(`worker ${x.id} died (code ${x.code}, signal ${x.signal}) — see ${x.id}.log`);
  const redelivery = measureRedelivery(entries, pool.kills, new Set(deadJobs.keys()));
  if (redelivery.unseen > 0) problems.push(`${redelivery.unseen} jobs of killed workers were never started again`);
  const boots = pool.spawned
    .map((w) => bootTimings(entries, w.id, w.at).wall.receive)
    .filter((ms): ms is number => ms !== undefined)
    .sort((a, b) => a - b);
  const boot = { p50Ms: percentile(boots, 0.5), maxMs: boots.at(-1) ?? 0, count: boots.length };
  if (redelivery.maxMs > 2 * backend.leaseMs) log(`${backend.name}: slowest redelivery: ${redelivery.slowest}`);
  let leftover: QueueStats | undefined;
  try {
    leftover = await backend.adapter.stats(queue);
  } catch {}
  if (!drained && !gaveUp) problems.push(`not drained within ${seconds(profile.deadlineMs)}`);
  const duplicates = [...completions.values()].filter((n) => n > 1).length;
  const faultText = [...faults, ...(backend.skipped ? [backend.skipped] : [])].join('; ');
  const ok = lost.length === 0 && problems.length === 0;
  const reasons = Object.entries(deadByReason)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const line =
    `${backend.name} [${profile.name}${options.testOnlyBreakage ? `, TEST-ONLY BREAKAGE ${options.testOnlyBreakage}` : ''}]: enqueued ${profile.jobs} (${enqueued.healthy} healthy, ${enqueued.flaky} flaky, ${enqueued.poison} poison) + ${garbage.length} garbage; ` +
    `completed ${completions.size}, duplicates ${duplicates}, dead-lettered ${deadLetters.length} (${reasons}), missing from dead letters ${missingDead.length}, lost ${lost.length}; ` +
    `${pool.kills.length} kills, redelivery after kill p50 ${seconds(redelivery.p50Ms)} max ${seconds(redelivery.maxMs)} (${redelivery.count} jobs, lease ${seconds(backend.leaseMs)}); ` +
    `worker boot to first receive p50 ${seconds(boot.p50Ms)} max ${seconds(boot.maxMs)} (${boot.count} workers); machine load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; ` +
    `backend: ${faultText}; worker errors logged ${workerErrors}, unexpected worker deaths ${unexpectedExits.length}; ` +
    `${drained ? 'drained' : 'NOT drained, stopped'} in ${seconds(drainMs)} — ${ok ? 'PASS' : 'FAIL'}`;
  return {
    adapter: backend.name,
    profile: profile.name,
    ...(options.testOnlyBreakage ? { breakage: options.testOnlyBreakage } : {}),
    enqueued,
    garbage: garbage.length,
    completed: completions.size,
    duplicates,
    deadByReason,
    lost,
    missingDead,
    problems,
    kills: pool.kills.length,
    killed: [...pool.kills],
    redelivery,
    boot,
    faults: faultText,
    workerErrors,
    unexpectedExits,
    drained,
    leftover,
    durationMs: Date.now() - started,
    runDir: join(runDir),
    ok,
    line,
  };
}
