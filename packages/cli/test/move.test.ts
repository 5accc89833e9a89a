import { describe, expect, it } from 'vitest';
import { adapterNotReady, backend, freshQueue, open, receiveAll, runBg, seed } from './helpers.js';

const PKG = { redis: '@bg/redis', sqs: '@bg/sqs', azure: '@bg/azure-queue', azure2: '@bg/azure-queue' } as const;
type Name = keyof typeof PKG;

async function skipReason(...names: Name[]): Promise<string | undefined> {
  for (const name of names) {
    const reason = backend(name).skip ?? (await adapterNotReady(PKG[name]));
    if (reason) return `${name}: ${reason}`;
  }
  return undefined;
}

// Round trips: there and back again, nothing lost or duplicated, ids/bytes/attributes kept.
const PAIRS: [Name, Name][] = [
  ['redis', 'sqs'],
  ['azure', 'sqs'],
  ['azure', 'azure2'],
];

for (const [from, to] of PAIRS) {
  const skip = await skipReason(from, to);
  if (skip) console.warn(`[cli] skipping move ${from} ⇄ ${to}: ${skip}`);
  describe.skipIf(Boolean(skip))(`bgctl move ${from} ⇄ ${to} (subprocess)`, () => {
    it('moves live jobs and dead letters there and back, nothing lost or duplicated', { timeout: 90_000 }, async () => {
      const a = await open(backend(from).url as string);
      const b = await open(backend(to).url as string);
      try {
        const queue = freshQueue('move');
        const seeded = await seed(a, queue, { live: 25, dead: 3 });
        await b.ensureQueue(queue);
        const liveBefore = await receiveAll(a, queue, 25);
        const bodies = new Map(liveBefore.map((m) => [m.id, { body: m.body, attributes: m.attributes }]));
        await Promise.all(liveBefore.map((m) => a.release(queue, m.handle, 0)));
        expect(bodies.size).toBe(25);

        for (const [src, dst, srcUrl, dstUrl] of [
          [a, b, backend(from).url, backend(to).url],
          [b, a, backend(to).url, backend(from).url],
        ] as const) {
          await waitReady(src, queue, 25);
          const run = await runBg([
            'move',
            '--from',
            srcUrl as string,
            '--to',
            dstUrl as string,
            '--queue',
            queue,
            '--dead',
            '--idle',
            '1s',
            '--json',
          ]);
          expect(run.stderr).toBe('');
          expect(run.code).toBe(0);
          const out = JSON.parse(run.stdout);
          expect(out.queues[0]).toMatchObject({ queue, live: 25, dead: 3, interrupted: false });
          expect(JSON.stringify(out)).not.toMatch(/accountKey=[^*"&]{8}/);
          const srcStats = await src.stats(queue);
          expect(srcStats).toMatchObject({ ready: 0, dead: 0 });
          const dstDead = await dst.listDeadLetters(queue, { limit: 100 });
          expect(dstDead.items.map((d) => d.id).sort()).toEqual([...seeded.dead].sort());
          expect(dstDead.items.map((d) => d.reason).sort()).toEqual(['max-attempts', 'permanent-error', 'permanent-error']);
          expect(dstDead.items.every((d) => d.body.includes('🚀'))).toBe(true);
        }
        // Back on the source: exactly the 25 jobs, same ids, bytes and attributes.
        const back = await receiveAll(a, queue, 26, 5_000);
        expect(back).toHaveLength(25);
        for (const m of back) {
          expect(m.body).toBe(bodies.get(m.id)?.body);
          expect(m.attributes['bg-type']).toBe('seed.job');
        }
        expect(new Set(back.map((m) => m.id))).toEqual(new Set(seeded.live));
        for (const m of back) await a.ack(queue, m.handle);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

const missingSkip = await skipReason('redis', 'sqs');
describe.skipIf(Boolean(missingSkip))('bgctl move into a missing queue (subprocess)', () => {
  it('names the queue and moves nothing', async () => {
    const a = await open(backend('redis').url as string);
    try {
      const queue = freshQueue('gone');
      await seed(a, queue, { live: 12, dead: 0 });
      const run = await runBg([
        'move',
        '--from',
        backend('redis').url as string,
        '--to',
        backend('sqs').url as string,
        '--queue',
        queue,
      ]);
      expect(run.code, `exit code 4 (not found): ${run.stderr}`).toBe(4);
      expect(run.stderr, 'the error names the missing queue').toContain(`queue "${queue}" does not exist on sqs`);
      expect(run.stderr).toContain('QUEUE_NOT_FOUND');
      expect(run.stderr.match(/[0-9a-f]{8}-[0-9a-f]{4}-/g) ?? [], 'no job ids in the error').toEqual([]);
      expect((await a.stats(queue)).ready, 'nothing left the source').toBe(12);
    } finally {
      await a.close();
    }
  });
});

async function waitReady(adapter: Awaited<ReturnType<typeof open>>, queue: string, ready: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (((await adapter.stats(queue)).ready ?? 0) < ready) {
    if (Date.now() > deadline) throw new Error(`${queue}: fewer than ${ready} ready jobs after 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sigSkip = await skipReason('azure', 'azure2');
describe.skipIf(Boolean(sigSkip))('bgctl move interrupted (subprocess)', () => {
  it('SIGINT finishes the batch in hand, exits 130; a rerun continues; nothing lost', { timeout: 60_000 }, async () => {
    const a = await open(backend('azure').url as string);
    const b = await open(backend('azure2').url as string);
    try {
      const queue = freshQueue('sig');
      const seeded = await seed(a, queue, { live: 40, dead: 0 });
      await b.ensureQueue(queue);
      const { spawn } = await import('node:child_process');
      const { CHILD_ENV, PACKAGE_DIR } = await import('./helpers.js');
      // By name through a shell, as a user would; `exec` so the signal reaches bgctl itself.
      const child = spawn(
        'sh',
        [
          '-c',
          'exec bgctl "$@"',
          'sh',
          'move',
          '--from',
          backend('azure').url as string,
          '--to',
          backend('azure2').url as string,
          '--queue',
          queue,
          '--batch',
          '1',
          '--json',
        ],
        {
          cwd: PACKAGE_DIR,
          env: CHILD_ENV,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const deadline = Date.now() + 20_000;
      while (((await b.stats(queue)).ready ?? 0) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGINT');
      const code = await exited;
      const out = JSON.parse(stdout);
      if (code === 130) {
        expect(out.interrupted).toBe(true);
        expect(out.queues[0].live).toBeLessThan(40);
      } else {
        expect(code).toBe(0); // the move finished before the signal arrived
      }
      const rerun = await runBg([
        'move',
        '--from',
        backend('azure').url as string,
        '--to',
        backend('azure2').url as string,
        '--queue',
        queue,
        '--idle',
        '1s',
        '--json',
      ]);
      expect(rerun.code).toBe(0);
      expect(out.queues[0].live + JSON.parse(rerun.stdout).queues[0].live).toBe(40);
      const moved = await receiveAll(b, queue, 41, 5_000);
      expect(new Set(moved.map((m) => m.id))).toEqual(new Set(seeded.live));
      expect(moved).toHaveLength(40);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
