/**
 * The harness's own proof: its verdict "nothing lost" fails when jobs really are lost. The
 * same small profile runs twice on one private Redis: with workers broken on purpose
 * (`ack-on-receive`: the adapter acks every healthy job as soon as it is received, so a
 * kill loses whatever the killed worker had in hand) the run must FAIL and name exactly
 * such jobs; with healthy workers it must pass. See "How the verdict is proven" in the README.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosBackend, startBackend } from '../src/backends.js';
import { type LedgerEntry, readLedgers } from '../src/ledger.js';
import { SELF_PROOF_PROFILE } from '../src/profiles.js';
import { type ChaosReport, runChaos } from '../src/run-chaos.js';

const root = mkdtempSync(join(tmpdir(), 'bg-chaos-self-proof-'));

/** The backend without its restart and outage: the proof is about kills (the CI profile runs every fault). */
function killsOnly(backend: ChaosBackend): ChaosBackend {
  const { restart: _restart, outage: _outage, ...rest } = backend;
  return { ...rest, skipped: 'restart and outage skipped: the self-proof is about kills' };
}

/** How a lost job was lost, read from the ledgers and the backend's diagnosis. */
interface LostJob {
  readonly kind: string;
  readonly id: string;
  /** The last worker process that received it, and when. */
  readonly lastReceiver: LedgerEntry | undefined;
  /** That worker's kill, when the harness killed it. */
  readonly kill: { id: string; at: number } | undefined;
  readonly startedThere: boolean;
  readonly completedAnywhere: boolean;
  /** What the backend's own client found for it (Redis: `not in the stream` once acked). */
  readonly backend: string;
}

function lostJobs(report: ChaosReport, entries: readonly LedgerEntry[], kills: readonly { id: string; at: number }[]): LostJob[] {
  return report.lost.map((line) => {
    const [kind = '', id = ''] = line.split(' ');
    const ofJob = entries.filter((e) => e.id === id);
    const lastReceiver = ofJob.filter((e) => e.e === 'received').at(-1);
    const kill = kills.find((k) => k.id === lastReceiver?.w);
    const diagnosis = report.problems.find((p) => p.startsWith(`diagnosis: ${id}: `));
    return {
      kind,
      id,
      lastReceiver,
      kill,
      startedThere: ofJob.some((e) => e.e === 'start' && e.w === lastReceiver?.w),
      completedAnywhere: ofJob.some((e) => e.e === 'done'),
      backend: diagnosis?.slice(`diagnosis: ${id}: `.length) ?? 'no diagnosis',
    };
  });
}

function describeLost(j: LostJob): string {
  const received = j.lastReceiver
    ? `last received by ${j.lastReceiver.w}` +
      (j.kill ? ` ${((j.kill.at - j.lastReceiver.t) / 1000).toFixed(2)} s before its kill -9` : ' (never killed)') +
      `, ${j.startedThere ? 'running' : 'waiting for a slot'} there`
    : 'never received';
  return `lost ${j.kind} ${j.id}: ${received}; completed nowhere: ${!j.completedAnywhere}; backend: ${j.backend}`;
}

describe('the verdict proves itself on redis', () => {
  let backend: ChaosBackend | undefined;
  beforeAll(async () => {
    const started = await startBackend('redis');
    backend = started && killsOnly(started);
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('workers that ack on receipt lose the jobs in hand at each kill: the run FAILS and names them', async (ctx) => {
    if (!backend) return ctx.skip('redis: backend not installed');
    const runDir = join(root, 'ack-on-receive');
    const report = await runChaos({ backend, profile: SELF_PROOF_PROFILE, runDir, testOnlyBreakage: 'ack-on-receive' });
    console.log(report.line);
    const lost = lostJobs(report, readLedgers(runDir), report.killed);
    for (const j of lost) console.log(describeLost(j));

    expect(report.ok).toBe(false);
    expect(report.line).toMatch(/ — FAIL$/);
    expect(report.kills).toBeGreaterThan(0);
    expect(report.lost.length, 'the verdict names lost jobs').toBeGreaterThan(0);
    // The run ended on the proof of loss (the backend held nothing live), not on a stall.
    expect(report.problems.filter((p) => p.includes('never completed while the backend held no live message'))).toHaveLength(1);
    // Each one is a job the breakage could lose: a healthy job whose last receiver was killed
    // (after acking it on receipt), completed nowhere, and gone from the backend.
    for (const j of lost) {
      expect(j.kind, describeLost(j)).toBe('healthy');
      expect(j.kill, describeLost(j)).toBeDefined();
      expect(j.completedAnywhere, describeLost(j)).toBe(false);
      expect(j.backend, describeLost(j)).toBe('not in the stream');
    }
    // Nothing else went wrong: the poison job and the garbage were dead-lettered, no worker
    // died of anything but our kills; the other problems are the losses themselves.
    expect(report.missingDead).toEqual([]);
    expect(report.unexpectedExits).toEqual([]);
    const losses =
      /^diagnosis: |^\d+ jobs never completed while the backend held no live message |^\d+ jobs of killed workers were never started again$/;
    const others = report.problems.filter((p) => !losses.test(p));
    expect(others).toEqual([]);
  }, 60_000);

  it('the same profile with healthy workers: nothing lost, PASS', async (ctx) => {
    if (!backend) return ctx.skip('redis: backend not installed');
    const report = await runChaos({ backend, profile: SELF_PROOF_PROFILE, runDir: join(root, 'healthy') });
    console.log(report.line);
    expect(report.lost).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.completed).toBe(report.enqueued.healthy + report.enqueued.flaky);
    expect(report.kills).toBeGreaterThan(0);
    expect(report.redelivery.count, 'kills landed while jobs were in hand').toBeGreaterThan(0);
    expect(report.ok).toBe(true);
  }, 60_000);
});
