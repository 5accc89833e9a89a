import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterNotReady, backend, freshQueue, open, runBg, seed } from './helpers.js';

// Every command as a subprocess against each real backend. A backend whose adapter package
// does not export fromUrl yet (they are written in parallel) is skipped with the reason.
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
  describe.skipIf(Boolean(skip))(`bg commands on ${b.name} (subprocess)`, () => {
    const url = info.url as string;
    let adapter: Awaited<ReturnType<typeof open>>;
    beforeAll(async () => {
      adapter = await open(url);
    });
    afterAll(async () => {
      await adapter?.close();
    });

    it('stats counts ready and dead jobs per queue', async () => {
      const q1 = freshQueue();
      const q2 = freshQueue();
      await seed(adapter, q1, { live: 3, dead: 2 });
      await seed(adapter, q2, { live: 1, dead: 0 });
      const run = await runBg(['stats', url, '--queue', q1, '--queue', q2, '--json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout);
      expect(out.queues).toEqual([
        { queue: q1, ready: 3, inFlight: 0, delayed: 0, dead: 2 },
        { queue: q2, ready: 1, inFlight: 0, delayed: 0, dead: 0 },
      ]);
      expect(run.stdout).not.toMatch(/accountKey=[^*"&]{8}/);
      const table = await runBg(['stats', url, '--queue', q1]);
      expect(table.stdout).toMatch(new RegExp(`${q1}\\s+3\\s+0\\s+0\\s+2`));
    });

    it('enqueue writes a job a worker can read (and a delayed one counts as delayed)', async () => {
      const queue = freshQueue();
      await adapter.ensureQueue(queue);
      const run = await runBg(['enqueue', url, 'email.welcome', '{"userId":"ü1"}', '--queue', queue, '--json']);
      expect(run.code).toBe(0);
      const { id } = JSON.parse(run.stdout);
      const delayed = await runBg(['enqueue', url, 'email.welcome', '{"userId":"u2"}', '--queue', queue, '--delay', '10m']);
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
      const list = await runBg(['dead', 'list', url, '--queue', queue, '--json']);
      expect(list.code).toBe(0);
      const items = JSON.parse(list.stdout).items as { id: string; reason: string; type: string; body: string }[];
      expect(items.map((i) => i.id).sort()).toEqual([...seeded.dead].sort());
      expect(items.every((i) => i.type === 'seed.job')).toBe(true);
      const byReason = JSON.parse(
        (await runBg(['dead', 'list', url, '--queue', queue, '--reason', 'max-attempts', '--json'])).stdout,
      ).items;
      expect(byReason).toHaveLength(2);
      const old = JSON.parse((await runBg(['dead', 'list', url, '--queue', queue, '--older-than', '1h', '--json'])).stdout).items;
      expect(old.map((i: { reason: string }) => i.reason)).toEqual(['max-attempts', 'max-attempts']);
      const none = JSON.parse(
        (await runBg(['dead', 'list', url, '--queue', queue, '--type', 'other.job', '--json'])).stdout,
      ).items;
      expect(none).toEqual([]);
      const table = await runBg(['dead', 'list', url, '--queue', queue]);
      expect(table.stdout).toMatch(/ID\s+TYPE\s+REASON\s+ATTEMPTS\s+AGE\s+ERROR/);

      const target = items.find((i) => i.reason === 'permanent-error') as { id: string; body: string };
      const show = await runBg(['dead', 'show', url, target.id, '--queue', queue]);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain(`id:        ${target.id}`);
      expect(show.stdout).toMatch(/error: {5}Error: boom/);

      // replay one by id: back to live with the same id and bytes
      const replay = await runBg(['dead', 'replay', url, target.id, '--queue', queue]);
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
      const refused = await runBg(['dead', 'purge', url, '--queue', queue, '--reason', 'max-attempts']);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toContain('--yes');
      const dry = await runBg(['dead', 'purge', url, '--queue', queue, '--reason', 'max-attempts', '--dry-run', '--json']);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, count: 2 });
      expect((await adapter.stats(queue)).dead).toBe(3);
      const purge = await runBg(['dead', 'purge', url, '--queue', queue, '--reason', 'max-attempts', '--yes', '--json']);
      expect(purge.code).toBe(0);
      expect(JSON.parse(purge.stdout).count).toBe(2);
      const rest = await runBg(['dead', 'purge', url, '--queue', queue, '--all', '-y']);
      expect(rest.code).toBe(0);
      expect((await adapter.stats(queue)).dead).toBe(0);
      expect((await runBg(['dead', 'show', url, target.id, '--queue', queue])).code).toBe(4);
    });

    it('replay of many asks for confirmation unless --yes', async () => {
      const queue = freshQueue();
      await seed(adapter, queue, { live: 0, dead: 11 });
      const refused = await runBg(['dead', 'replay', url, '--queue', queue, '--all']);
      expect(refused.code).toBe(5);
      expect((await adapter.stats(queue)).dead).toBe(11);
      const ok = await runBg(['dead', 'replay', url, '--queue', queue, '--all', '--yes', '--json']);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout).count).toBe(11);
      const stats = await adapter.stats(queue);
      expect(stats.dead).toBe(0);
      expect(stats.ready).toBe(11);
    });

    it('an unreachable backend is a failure (exit 1)', async () => {
      const broken = url.replace(/127\.0\.0\.1(%3A|:)\d+/, '127.0.0.1$1' + '1');
      const run = await runBg(['stats', broken]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/UNREACHABLE|BACKEND_ERROR/);
    });
  });
}
