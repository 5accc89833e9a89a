import { azuriteQueueBin } from '@bg/backends/azurite';
import { pubsubEmulatorBin } from '@bg/backends/pubsub-emulator';
import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

/** Is the adapter package built and does it export fromUrl (what `connect(BG_URL)` needs)? */
async function exportsFromUrl(pkg: string): Promise<boolean> {
  try {
    const mod = (await import(pkg)) as { fromUrl?: unknown };
    return typeof mod.fromUrl === 'function';
  } catch {
    return false;
  }
}

async function redisReady(): Promise<boolean> {
  if (!(await exportsFromUrl('@bg/redis'))) return false;
  try {
    const name = '@bg/backends/redis';
    await import(name);
    return true;
  } catch {
    return false;
  }
}

const inCi = Boolean(process.env.CI);
const backends = [
  // The local servers are required in CI; on a laptop a missing one skips its case.
  { name: 'Azurite', url: 'azurite', available: () => Promise.resolve(inCi || azuriteQueueBin() !== undefined) },
  { name: 'the Pub/Sub emulator', url: 'pubsub', available: () => Promise.resolve(inCi || pubsubEmulatorBin() !== undefined) },
  // Run once these packages export fromUrl (connect() needs it).
  { name: 'Redis', url: 'redis', available: redisReady },
  { name: 'the SQS emulator', url: 'sqs', available: () => exportsFromUrl('@bg/sqs') },
  // The whole demo on PostgreSQL (with the outbox path) costs as much as any backend: opt in with
  // BG_DEMO_POSTGRES=1. test/outbox-path.test.ts checks its outbox pieces cheaply on every run.
  {
    name: 'PostgreSQL, through the outbox',
    url: 'postgres',
    available: () => Promise.resolve(process.env.BG_DEMO_POSTGRES === '1'),
  },
];

describe('pnpm demo, unchanged on every backend (only BG_URL differs)', () => {
  for (const backend of backends) {
    it(`BG_URL=${backend.url} (${backend.name}): nothing lost, the poison dead-lettered and replayed`, async (ctx) => {
      if (!(await backend.available())) {
        ctx.skip(`${backend.name} is not available here (server not installed, or its adapter has no fromUrl yet)`);
      }
      const run = await runDemo({ BG_URL: backend.url, DEMO_SIGNUPS: '200', DEMO_RATE: '25' }, 100_000);
      const summary = run.summary;
      // The first line says which check of which run broke (CI's summary keeps only that line).
      const printed = `the demo on BG_URL=${backend.url} (exit ${String(run.code)}); it printed:\n${run.output}`;
      expect(summary, `no summary from ${printed}`).toBeDefined();
      expect(summary?.error, `an error from ${printed}`).toBeUndefined();
      const failed = summary?.checks?.filter((check) => !check.ok).map((check) => `${check.name}: ${check.text}`) ?? [];
      expect(failed, `failed checks of ${printed}`).toEqual([]);
      expect(summary?.ok, `verdict of ${printed}`).toBe(true);
      expect(run.code, `exit code of ${printed}`).toBe(0);
      if (!summary) return;

      // Nothing lost: every enqueued job completed, the dead letters are empty again.
      expect(summary.enqueued).toBeGreaterThan(200);
      expect(summary.completed).toBe(summary.enqueued);
      expect(summary.lost).toBe(0);
      expect(summary.unexpected).toBe(0);
      expect(summary.completedBeforeFix + summary.deadLettered).toBe(summary.enqueued);
      // The poison job sat in the dead letters with its reason, and replay brought it back.
      expect(summary.deadLettered).toBeGreaterThanOrEqual(1);
      expect(summary.deadReasons).toEqual({ 'permanent-error': summary.deadLettered });
      expect(summary.replayVia).toBe('bgctl dead replay');
      expect(summary.replayed).toBe(summary.deadLettered);
      expect(summary.replayedCompleted).toBe(summary.deadLettered);
      expect(summary.deadAtEnd).toBe(0);
      // The killed worker's jobs came back after their leases, not before.
      expect(summary.killed.inFlight).toBeGreaterThan(0);
      expect(summary.killed.cameBack).toBe(summary.killed.inFlight);
      expect(summary.killed.afterMs?.min ?? 0).toBeGreaterThanOrEqual(summary.killed.leaseMs * 0.4);
      // The recycled worker's unfinished jobs were picked up without waiting for a lease.
      if (summary.recycled.handedBack > 0) {
        expect(summary.recycled.pickedUpAfterMs?.max ?? Number.POSITIVE_INFINITY).toBeLessThan(summary.killed.leaseMs);
      }
      expect(summary.migratedV1).toBe(summary.legacyV1);

      if (backend.url === 'postgres') {
        // Every signup committed its user row with its jobs; the relay killed with rows waiting
        // lost none; the rolled-back signup left nothing.
        expect(summary.outbox, run.output).toMatchObject({ backlogAtEnd: 0, rolledBack: { userRows: 0, jobTraces: 0 } });
        expect(summary.outbox?.usersStored).toBe(summary.outbox?.committedSignups);
        expect(summary.outbox?.signupJobsCompleted).toBe(summary.outbox?.signupJobs);
        expect(summary.outbox?.relayKilled.backlog ?? 0).toBeGreaterThan(0);
        for (const text of [
          '[3a] A signup whose transaction rolls back',
          '[3b] kill -9 the outbox relay r1',
          'OUTBOX bg.outbox:',
        ]) {
          expect(run.output).toContain(text);
        }
      }

      // The human text tells the same story, step by step.
      for (const text of [
        '[4] kill -9 w1',
        '[5] Rolling deploy',
        '$ bgctl queue create demo-',
        '[7] Poison',
        '$ bgctl dead list --queue',
        'permanent-error',
        '$ bgctl dead replay --queue',
        'replayed',
        '✔ nothing lost',
      ]) {
        expect(run.output).toContain(text);
      }
    });
  }
});
