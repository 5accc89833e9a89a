import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './capture-io.js';
import { adapterNotReady, type BgRun, backend, CHILD_ENV, freshQueue, open, runBg, seed } from './helpers.js';

// Every command against each real backend. A backend whose adapter package does not export
// fromUrl yet (they are written in parallel) is skipped with the reason.
//
// The commands run in-process (runCli, what the bin calls, with a captured terminal): these
// tests are about what each command does and prints on each backend, and a `bgctl` process
// costs ~0.5–1 s of CPU to start (its adapter's SDK loaded afresh each time). The bin itself
// runs as a subprocess, found by name, in the first and last cases of each backend (stats, an
// unreachable backend) and the warning case here, and throughout memory.test.ts, schema.test.ts,
// move.test.ts (SIGINT) and adapter-packages.test.ts.

/** The environment the subprocesses get, as the in-process CLI's `env`. */
const CLI_ENV = Object.fromEntries(
  Object.entries(CHILD_ENV).filter((entry): entry is [string, string] => entry[1] !== undefined),
);

/** Runs `bgctl …args` in-process (see above); the same shape as {@link runBg}'s answer. */
async function runIn(args: readonly string[]): Promise<BgRun> {
  const { code, out, err } = await runCaptured(args, CLI_ENV);
  return { code, signal: null, stdout: out, stderr: err };
}
const BACKENDS = [
  { name: 'redis', pkg: '@bg/redis' },
  { name: 'sqs', pkg: '@bg/sqs' },
  { name: 'azure', pkg: '@bg/azure-queue' },
] as const;

const notReady = new Map<string, string | undefined>();
for (const b of BACKENDS) notReady.set(b.pkg, await adapterNotReady(b.pkg));

for (const b of BACKENDS) {
  const info = backend(b.name);
  const skip = info.skip ?? notReady.get(b.pkg);
  if (skip) console.warn(`[cli] skipping ${b.name} commands: ${skip}`);
  describe.skipIf(Boolean(skip))(`bgctl commands on ${b.name}`, () => {
    const url = info.url as string;
    let adapter: Awaited<ReturnType<typeof open>>;
    beforeAll(async () => {
      adapter = await open(url);
    });
    afterAll(async () => {
      await adapter?.close();
    });

    it('stats counts ready and dead jobs per queue (the bin, by name)', async () => {
      const q1 = freshQueue();
      const q2 = freshQueue();
      await seed(adapter, q1, { live: 3, dead: 2 });
      await seed(adapter, q2, { live: 1, dead: 0 });
      const run = await runBg(['stats', url, '--queue', q1, '--queue', q2, '--json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout);
      // Azure cannot tell leased from delayed jobs: those counts are unknown (null), never 0,
      // and the approximate total is given instead.
      const azure = b.name === 'azure';
      const counts = (ready: number, dead: number) =>
        azure ? { ready, inFlight: null, delayed: null, dead, total: ready } : { ready, inFlight: 0, delayed: 0, dead };
      expect(out.queues, `bgctl stats --json on ${b.name}`).toEqual([
        { queue: q1, ...counts(3, 2) },
        { queue: q2, ...counts(1, 0) },
      ]);
      expect(run.stdout).not.toMatch(/accountKey=[^*"&]{8}/);
      const table = await runBg(['stats', url, '--queue', q1]);
      expect(table.stdout, 'unknown counts show as ?').toMatch(
        new RegExp(azure ? `${q1}\\s+3\\s+\\?\\s+\\?\\s+2` : `${q1}\\s+3\\s+0\\s+0\\s+2`),
      );
      if (azure) expect(table.stdout).toContain('? = unknown');
      const absent = freshQueue('absent');
      const partly = await runBg(['stats', url, '--queue', `${q1},${absent}`, '--json']);
      expect(partly.code, `stats of a queue that exists and one that does not: ${partly.stderr}`).toBe(4);
      expect(JSON.parse(partly.stdout), 'the rows that exist, and the queue not found').toMatchObject({
        queues: [{ queue: q1 }],
        notFound: [absent],
      });
    });

    it('enqueue writes a job a worker can read (and a delayed one counts as delayed)', async () => {
      const queue = freshQueue();
      await adapter.ensureQueue(queue);
      const run = await runIn(['enqueue', url, 'email.welcome', '{"userId":"ü1"}', '--queue', queue, '--json']);
      expect(run.code).toBe(0);
      const { id } = JSON.parse(run.stdout);
      const delayed = await runIn(['enqueue', url, 'email.welcome', '{"userId":"u2"}', '--queue', queue, '--delay', '10m']);
      expect(delayed.code).toBe(0);
      const got = await adapter.receive(queue, {
        max: 10,
        leaseMs: Math.max(30_000, adapter.capabilities.minLeaseMs),
        waitMs: 2_000,
      });
      expect(got.map((m) => m.id)).toEqual([id]);
      expect(JSON.parse(got[0]?.body ?? '{}')).toMatchObject({
        bg: 1,
        id,
        type: 'email.welcome',
        v: 1,
        payload: { userId: 'ü1' },
      });
      expect(got[0]?.attributes['bg-type']).toBe('email.welcome');
      await adapter.ack(queue, got[0]?.handle as string);
    });

    it('dead list with filters, show, replay and purge', async () => {
      const queue = freshQueue();
      const seeded = await seed(adapter, queue, { live: 0, dead: 4 });
      const list = await runIn(['dead', 'list', url, '--queue', queue, '--json']);
      expect(list.code).toBe(0);
      const items = JSON.parse(list.stdout).items as { id: string; reason: string; type: string; body: string }[];
      expect(items.map((i) => i.id).sort()).toEqual([...seeded.dead].sort());
      expect(items.every((i) => i.type === 'seed.job')).toBe(true);
      const byReason = JSON.parse(
        (await runIn(['dead', 'list', url, '--queue', queue, '--reason', 'max-attempts', '--json'])).stdout,
      ).items;
      expect(byReason).toHaveLength(2);
      const old = JSON.parse((await runIn(['dead', 'list', url, '--queue', queue, '--older-than', '1h', '--json'])).stdout).items;
      expect(old.map((i: { reason: string }) => i.reason)).toEqual(['max-attempts', 'max-attempts']);
      const none = JSON.parse(
        (await runIn(['dead', 'list', url, '--queue', queue, '--type', 'other.job', '--json'])).stdout,
      ).items;
      expect(none).toEqual([]);
      const table = await runIn(['dead', 'list', url, '--queue', queue]);
      expect(table.stdout).toMatch(/ID\s+TYPE\s+REASON\s+ATTEMPTS\s+AGE\s+ERROR/);

      const target = items.find((i) => i.reason === 'permanent-error') as { id: string; body: string };
      const show = await runIn(['dead', 'show', url, target.id, '--queue', queue]);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain(`id:        ${target.id}`);
      expect(show.stdout).toMatch(/error: {5}Error: boom/);

      // replay one by id: back to live with the same id and bytes
      const replay = await runIn(['dead', 'replay', url, target.id, '--queue', queue]);
      expect(replay.code).toBe(0);
      expect(replay.stdout).toContain('replayed 1 of 1');
      const live = await adapter.receive(queue, {
        max: 10,
        leaseMs: Math.max(30_000, adapter.capabilities.minLeaseMs),
        waitMs: 2_000,
      });
      expect(live.map((m) => m.id)).toEqual([target.id]);
      expect(live[0]?.body).toBe(target.body);
      await adapter.ack(queue, live[0]?.handle as string);

      // purge asks: without a terminal and without --yes nothing changes (exit 5)
      const refused = await runIn(['dead', 'purge', url, '--queue', queue, '--reason', 'max-attempts']);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toContain('--yes');
      const dry = await runIn(['dead', 'purge', url, '--queue', queue, '--reason', 'max-attempts', '--dry-run', '--json']);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, count: 2 });
      expect((await adapter.stats(queue)).dead).toBe(3);
      const one = await runIn([
        'dead',
        'purge',
        url,
        '--queue',
        queue,
        '--reason',
        'max-attempts',
        '--limit',
        '1',
        '--yes',
        '--json',
      ]);
      expect(JSON.parse(one.stdout), `purge --limit 1 (it purged every match): ${one.stderr}`).toMatchObject({
        count: 1,
        selected: 1,
      });
      expect((await adapter.stats(queue)).dead, 'dead letters left after purge --limit 1').toBe(2);
      const purge = await runIn(['dead', 'purge', url, '--queue', queue, '--reason', 'max-attempts', '--yes', '--json']);
      expect(purge.code).toBe(0);
      expect(JSON.parse(purge.stdout).count).toBe(1);
      const rest = await runIn(['dead', 'purge', url, '--queue', queue, '--all', '-y']);
      expect(rest.code).toBe(0);
      expect((await adapter.stats(queue)).dead).toBe(0);
      expect((await runIn(['dead', 'show', url, target.id, '--queue', queue])).code).toBe(4);
      const typo = await runIn(['dead', 'purge', url, target.id, '--queue', queue, '--yes']);
      expect(typo.code, `purge of an id that is not there (it said "nothing to purge" and exit 0): ${typo.stderr}`).toBe(4);
      expect(typo.stderr).toContain(`no dead letter ${target.id}`);
    });

    it('replay of many asks for confirmation unless --yes', async () => {
      const queue = freshQueue();
      await seed(adapter, queue, { live: 0, dead: 11 });
      const refused = await runIn(['dead', 'replay', url, '--queue', queue, '--all']);
      expect(refused.code).toBe(5);
      expect((await adapter.stats(queue)).dead).toBe(11);
      const ok = await runIn(['dead', 'replay', url, '--queue', queue, '--all', '--yes', '--json']);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout).count).toBe(11);
      const stats = await adapter.stats(queue);
      expect(stats.dead).toBe(0);
      expect(stats.ready).toBe(11);
    });

    it('queue create, list and delete; sends into a deleted queue name it', async () => {
      const q1 = freshQueue('qc');
      const q2 = freshQueue('qc');
      const created = await runIn(['queue', 'create', url, q1, q2, '--json']);
      expect(created.stderr, 'bgctl queue create stderr').toBe('');
      expect(created.code).toBe(0);
      expect(await adapter.queueExists?.(q1), `${q1} exists after bgctl queue create`).toBe(true);
      const list = await runIn(['queue', 'list', url, '--json']);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout).queues, 'bgctl queue list').toEqual(expect.arrayContaining([q1, q2]));
      expect(JSON.parse(list.stdout).queues.some((q: string) => /-(poison|dlq)$|\.dead$/.test(q))).toBe(false);
      const refused = await runIn(['queue', 'delete', url, q1]);
      expect(refused.code, 'delete without --yes and without a terminal').toBe(5);
      expect(await adapter.queueExists?.(q1)).toBe(true);
      const deleted = await runIn(['queue', 'delete', url, q1, '--yes']);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(deleted.stdout).toContain(`deleted queue ${q1}`);
      expect(await adapter.queueExists?.(q1), `${q1} exists after bgctl queue delete`).toBe(false);
      const again = await runIn(['queue', 'delete', url, q1, '--yes']);
      expect(again.code, 'deleting a missing queue').toBe(4);
      const enqueue = await runIn(['enqueue', url, 'email.welcome', '{}', '--queue', q1]);
      expect(enqueue.code, 'enqueue into a missing queue: exit code 4 (not found)').toBe(4);
      expect(enqueue.stderr, 'enqueue into a missing queue names it').toContain(`"${q1}"`);
      expect(enqueue.stderr).toContain('QUEUE_NOT_FOUND');
      await runIn(['queue', 'delete', url, q2, '--yes']);
    });

    it('enqueue --key says whether the backend deduplicates; a duplicate returns the stored id', async () => {
      const queue = freshQueue('key');
      await adapter.ensureQueue(queue);
      const args = ['enqueue', url, 'email.welcome', '{"userId":"u1"}', '--queue', queue, '--key', 'welcome:u1', '--json'];
      const first = JSON.parse((await runIn(args)).stdout);
      const second = JSON.parse((await runIn(args)).stdout);
      if (adapter.capabilities.deduplication) {
        expect(first).toMatchObject({ duplicate: false, deduplication: 'honoured' });
        expect(second, 'a duplicate answers with the stored job id').toMatchObject({
          id: first.id,
          duplicate: true,
          deduplication: 'honoured',
        });
        expect(second.envelope, 'a duplicate shows no envelope (the one built was not stored; its id was another)').toBeNull();
      } else {
        expect(first).toMatchObject({ duplicate: false, deduplication: 'unsupported' });
        expect(second).toMatchObject({ duplicate: false, deduplication: 'unsupported' });
        const human = await runIn(args.slice(0, -1));
        expect(human.stdout).toContain('does not deduplicate');
      }
    });

    it.runIf(b.name === 'redis')('a warning is one line, printed once, and BG_NO_WARNINGS=1 turns it off', async () => {
      const loud = await runBg(['queue', 'list', url], { env: { BG_NO_WARNINGS: '', NODE_NO_WARNINGS: '' } });
      expect(loud.code, loud.stderr).toBe(0);
      const lines = loud.stderr.split('\n').filter((l) => l.length > 0);
      expect(lines, 'stderr of bgctl queue list on a Redis without persistence').toEqual([
        expect.stringMatching(/^bg warning: @bg\/redis: persistence is off .*appendonly yes\.$/),
      ]);
      expect(loud.stderr).not.toContain('trace-warnings');
      const quiet = await runBg(['queue', 'list', url], { env: { BG_NO_WARNINGS: '1', NODE_NO_WARNINGS: '' } });
      expect(quiet.stderr, 'BG_NO_WARNINGS=1').toBe('');
    });

    it('an unreachable backend is UNREACHABLE, exit 6 (the bin, by name)', async () => {
      const broken = url.replace(/127\.0\.0\.1(%3A|:)\d+/, '127.0.0.1$1' + '1');
      const run = await runBg(['stats', broken]);
      expect(run.stderr).toMatch(/^bgctl: UNREACHABLE: /);
      expect(run.code, run.stderr).toBe(6);
    });
  });
}
