import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Adapter, DeadLetterReason } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { moveJobs } from '../src/move-jobs.js';
import { sameBackend } from '../src/same-backend.js';
import { adapterNotReady, backend, freshQueue, open, receiveAll, runBg } from './helpers.js';

/** What the second outside audit of bgctl found; each test failed on the code before its fix. */

interface DeadSpec {
  readonly id: string;
  readonly type?: string;
  readonly reason?: DeadLetterReason;
  /** How long ago it was dead-lettered. */
  readonly agoMs?: number;
}

/** Dead letters with chosen ids, types, reasons and ages (as the audit's seed script made them). */
async function seedDead(adapter: Adapter, queue: string, specs: readonly DeadSpec[]): Promise<void> {
  await adapter.ensureQueue(queue);
  for (const s of specs) {
    await adapter.send(queue, [{ id: s.id, body: JSON.stringify({ bg: 1 }), attributes: s.type ? { 'bg-type': s.type } : {} }]);
    const [m] = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 1_000 });
    if (!m) throw new Error(`seeding ${s.id}: nothing received`);
    await adapter.deadLetter(queue, m, {
      reason: s.reason ?? 'manual',
      attempts: 3,
      deadLetteredAt: Date.now() - (s.agoMs ?? 0),
    });
    await adapter.ack(queue, m.handle);
  }
}

const deadIds = async (adapter: Adapter, queue: string): Promise<string[]> =>
  (await adapter.listDeadLetters(queue, { limit: 1000 })).items.map((d) => d.id).sort();

const redisSkip = backend('redis').skip ?? (await adapterNotReady('@bg/redis'));
if (redisSkip) console.warn(`[cli] skipping the Redis cases of the second audit: ${redisSkip}`);
const REDIS = backend('redis').url as string;
/** The harness's Redis without database and parameters: `redis://127.0.0.1:<port>`. */
const REDIS_BASE = REDIS ? `${new URL(REDIS).protocol}//${new URL(REDIS).host}` : '';

const FIVE: DeadSpec[] = Array.from({ length: 5 }, (_, n) => ({ id: `dl-${n}`, type: 't' }));

describe('bgctl move between two spellings of one store never deletes the dead letters', () => {
  it('moveJobs onto the same memory store keeps every dead letter (they were purged after being "moved" onto themselves)', async () => {
    const a = memoryAdapter();
    await seedDead(a, 'self', FIVE);
    const result = await moveJobs(a, a, { queue: 'self', dead: true, idleMs: 50 });
    expect(await deadIds(a, 'self'), 'dead letters left in the one store').toEqual(FIVE.map((d) => d.id));
    expect(result, 'what the move reports').toMatchObject({ dead: 0, deadSkipped: 'same-store' });
  });

  it('moveJobs with a live duplicate does not go on to the dead letters (they were deleted though the live phase saw the source)', async () => {
    const a = memoryAdapter();
    await seedDead(a, 'self', FIVE);
    await a.send('self', [{ id: 'live-1', body: '{}', attributes: {} }]);
    const result = await moveJobs(a, a, { queue: 'self', dead: true, idleMs: 50 });
    expect(result, 'live duplicates, dead phase skipped').toMatchObject({ duplicates: 1, dead: 0, deadSkipped: 'duplicates' });
    expect(await deadIds(a, 'self'), 'dead letters left in the one store').toEqual(FIVE.map((d) => d.id));
    expect((await a.stats('self')).ready, 'the live job').toBe(1);
  });

  it('moveJobs between two distinct stores still moves the dead letters, and leaves no probe behind', async () => {
    const a = memoryAdapter();
    const b = memoryAdapter();
    await seedDead(a, 'dist', FIVE);
    await b.ensureQueue('dist');
    const result = await moveJobs(a, b, { queue: 'dist', dead: true, idleMs: 50 });
    expect(result).toMatchObject({ dead: 5, duplicates: 0 });
    expect(result.deadSkipped).toBeUndefined();
    expect(await deadIds(a, 'dist'), 'source').toEqual([]);
    expect(await deadIds(b, 'dist'), 'destination: the five, no probe').toEqual(FIVE.map((d) => d.id));
    expect(await b.stats('dist'), 'destination live queue').toMatchObject({ ready: 0, inFlight: 0 });
  });

  it.skipIf(Boolean(redisSkip))('moveJobs between two Redis adapters on one server keeps every dead letter', async () => {
    const a = await open(REDIS);
    const b = await open(REDIS);
    try {
      const queue = freshQueue('self');
      await seedDead(a, queue, FIVE);
      const result = await moveJobs(a, b, { queue, dead: true, idleMs: 200 });
      expect(await deadIds(a, queue), 'dead letters left on the Redis').toEqual(FIVE.map((d) => d.id));
      expect(result, 'what the move reports').toMatchObject({ dead: 0, deadSkipped: 'same-store' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('sameBackend: parameters that do not change the store do not make two URLs different', () => {
    const pairs: [string, string, boolean][] = [
      ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379?prefix=bg', true],
      ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379?family=4', true],
      ['redis://h/0?prefix=app', 'redis://h?family=6&prefix=app', true],
      ['redis://h?prefix=app', 'redis://h?prefix=bg', false],
      ['redis://h', 'redis://h?prefix=app', false],
      ['postgres://h/app', 'postgres://h/app?schema=bg&sslmode=require&poolSize=3&application_name=x', true],
      ['postgres://h/app', 'postgres://h/app?schema=jobs', false],
      ['sqs://eu-west-1', 'sqs://eu-west-1?deadLetterSuffix=-dlq&maxMessageBytes=1000&fifo=false', true],
      ['sqs://eu-west-1', 'sqs://eu-west-1?fifo=true', false],
      ['sqs://eu-west-1', 'sqs://eu-west-1?prefix=app', false],
      ['pubsub://p', 'pubsub://p?prefix=bg-&timeoutMs=5000&pollIntervalMs=100', true],
      ['pubsub://p', 'pubsub://p?prefix=app-', false],
      ['azure-queue://acct?accountKey=a', 'azure-queue://acct?sas=b&ttl=60', true],
      ['memory:', 'memory://default', true],
      ['memory:', 'memory://other', false],
      ['fsq:///var/q', 'fsq:///var/q?anything=1', false],
    ];
    for (const [left, right, same] of pairs) expect(sameBackend(left, right), `sameBackend(${left}, ${right})`).toBe(same);
  });

  describe.skipIf(Boolean(redisSkip))('bgctl move (subprocess, Redis)', () => {
    for (const [name, from, to] of [
      ['an explicit default ?prefix=bg', () => REDIS_BASE, () => `${REDIS_BASE}?prefix=bg`],
      ['a connection-only ?family=4', () => REDIS, () => `${REDIS}&family=4`],
    ] as const) {
      it(`is refused for ${name}, and every dead letter stays (move-self2.sh: exit 0, all deleted)`, async () => {
        const a = await open(from());
        try {
          const queue = freshQueue('self');
          await seedDead(a, queue, FIVE);
          const run = await runBg(['move', '--from', from(), '--to', to(), '--queue', queue, '--dead', '--idle', '200ms']);
          expect(await deadIds(a, queue), `dead letters left (bgctl said: ${run.stdout}${run.stderr})`).toEqual(
            FIVE.map((d) => d.id),
          );
          expect({ code: run.code, stderr: run.stderr }, 'refused as one backend').toEqual({
            code: 2,
            stderr: expect.stringContaining('--from and --to are the same backend'),
          });
        } finally {
          await a.close();
        }
      });
    }

    it('with a live job beside them: the live duplicate stays and so do the dead letters (move-self.sh: dead letters deleted)', async () => {
      const alias = await loopbackAlias(new URL(REDIS).port);
      if (!alias) return void console.warn('[cli] no other name of this machine reaches the Redis: skipped');
      const queue = freshQueue('self');
      const from = REDIS;
      const to = REDIS.replace('127.0.0.1', alias);
      const a = await open(from);
      try {
        await seedDead(a, queue, FIVE);
        await a.send(queue, [{ id: 'live-1', body: '{}', attributes: {} }]);
        const run = await runBg(['move', '--from', from, '--to', to, '--queue', queue, '--dead', '--idle', '200ms', '--json']);
        expect(await deadIds(a, queue), `dead letters left (bgctl said: ${run.stdout}${run.stderr})`).toEqual(
          FIVE.map((d) => d.id),
        );
        expect(run.code, run.stderr).toBe(1);
        expect(JSON.parse(run.stdout).queues[0]).toMatchObject({ dead: 0, duplicates: 1, deadSkipped: 'duplicates' });
        expect((await a.stats(queue)).ready, 'the live job').toBe(1);
      } finally {
        await a.close();
      }
    });

    it('without a live job, a name sameBackend cannot see through is caught by the probe (exit 1, nothing deleted)', async () => {
      const alias = await loopbackAlias(new URL(REDIS).port);
      if (!alias) return void console.warn('[cli] no other name of this machine reaches the Redis: skipped');
      const queue = freshQueue('self');
      const to = REDIS.replace('127.0.0.1', alias);
      const a = await open(REDIS);
      try {
        await seedDead(a, queue, FIVE);
        const run = await runBg(['move', '--from', REDIS, '--to', to, '--queue', queue, '--dead', '--idle', '200ms']);
        expect(await deadIds(a, queue), `dead letters left (bgctl said: ${run.stdout}${run.stderr})`).toEqual(
          FIVE.map((d) => d.id),
        );
        expect(run.code, run.stderr).toBe(1);
        expect(run.stdout, 'the summary says why').toContain('one store under two URLs');
        expect(await a.stats(queue), 'no probe left, nothing in flight').toMatchObject({ ready: 0, inFlight: 0, dead: 5 });
      } finally {
        await a.close();
      }
    });
  });
});

/**
 * Another spelling of 127.0.0.1 that `sameBackend` does not know (an IPv4-mapped IPv6 address,
 * or this machine's host name when it resolves to loopback) and that reaches `port`, if any.
 */
async function loopbackAlias(port: string): Promise<string | undefined> {
  for (const candidate of ['[::ffff:127.0.0.1]', hostname()]) {
    const host = candidate.replace(/^\[|\]$/g, '');
    const reached = await new Promise<boolean>((resolve) => {
      const socket = netConnect({ host, port: Number(port) }, () => {
        socket.end();
        resolve(socket.remoteAddress?.endsWith('127.0.0.1') ?? false);
      });
      socket.on('error', () => resolve(false));
    });
    if (reached && !sameBackend(`redis://127.0.0.1:${port}`, `redis://${candidate}:${port}`)) return candidate;
  }
  return undefined;
}

describe.skipIf(Boolean(redisSkip))('bgctl dead replay|purge with ids (subprocess, Redis)', () => {
  // a-3 is the oldest, a-1 the newest.
  const THREE: DeadSpec[] = [
    { id: 'a-1', agoMs: 1_000 },
    { id: 'a-2', agoMs: 2_000 },
    { id: 'a-3', agoMs: 3_000 },
  ];

  it('--limit does not turn existing ids into "not found", and takes the oldest first (limit-ids.sh)', async () => {
    const a = await open(REDIS);
    try {
      const queue = freshQueue('lim');
      await seedDead(a, queue, THREE);
      const dry = await runBg([
        'dead',
        'replay',
        REDIS,
        'a-1',
        'a-2',
        'a-3',
        '--queue',
        queue,
        '--limit',
        '1',
        '--dry-run',
        '--json',
      ]);
      expect({ code: dry.code, stderr: dry.stderr }, 'dry run of three existing ids, --limit 1').toEqual({ code: 0, stderr: '' });
      const plan = JSON.parse(dry.stdout);
      expect(plan.notFound, 'ids reported missing').toBeUndefined();
      expect(
        plan.items.map((d: { id: string }) => d.id),
        'the one chosen: the oldest',
      ).toEqual(['a-3']);
      const purge = await runBg([
        'dead',
        'purge',
        REDIS,
        'a-1',
        'a-2',
        'a-3',
        '--queue',
        queue,
        '--limit',
        '2',
        '--yes',
        '--json',
      ]);
      expect({ code: purge.code, stderr: purge.stderr }, 'purge of three existing ids, --limit 2').toEqual({
        code: 0,
        stderr: '',
      });
      expect(JSON.parse(purge.stdout)).toMatchObject({ count: 2, selected: 2 });
      expect(await deadIds(a, queue), 'the newest is left').toEqual(['a-1']);
      // A missing id beside them is still named, whatever the limit.
      const typo = await runBg(['dead', 'purge', REDIS, 'a-1', 'a-9', '--queue', queue, '--limit', '1', '--dry-run']);
      expect(typo.code, typo.stderr).toBe(4);
      expect(typo.stderr).toBe(`no dead letter a-9 on ${queue}\n`);
    } finally {
      await a.close();
    }
  });

  it('replays 60 dead letters several at a time: each live again exactly once, none left dead, a marker dropped', async () => {
    const a = await open(REDIS);
    try {
      const queue = freshQueue('many');
      const specs = Array.from({ length: 60 }, (_, i) => ({ id: `m-${i}`, type: 'email.welcome', agoMs: 60_000 - i }));
      await seedDead(a, queue, specs);
      // One as a backend's own redrive would keep it: still marked a dead letter in transit.
      const marked = await a.getDeadLetter(queue, 'm-30');
      if (!marked) throw new Error('m-30 was not seeded');
      await a.purgeDeadLetters(queue, ['m-30']);
      await a.send(queue, [{ id: 'm-30', body: marked.body, attributes: { ...marked.attributes, 'bg-dead-letter': '{"v":1}' } }]);
      const [m] = await a.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 1_000 });
      if (!m) throw new Error('m-30: nothing received');
      await a.deadLetter(queue, m, { reason: 'max-attempts', attempts: 5, deadLetteredAt: Date.now() });
      await a.ack(queue, m.handle);

      const replay = await runBg(['dead', 'replay', REDIS, '--all', '--queue', queue, '--yes', '--json']);
      expect({ code: replay.code, stderr: replay.stderr }, 'dead replay --all of 60').toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(replay.stdout), 'the replay summary').toMatchObject({ count: 60, selected: 60, interrupted: false });
      expect(await deadIds(a, queue), 'dead letters left after the replay').toEqual([]);
      const live = await receiveAll(a, queue, 60);
      expect(live.map((l) => l.id).sort(), 'the live queue: every replayed id once').toEqual(specs.map((d) => d.id).sort());
      expect(
        live.filter((l) => 'bg-dead-letter' in l.attributes).map((l) => l.id),
        'replayed jobs still bearing the bg-dead-letter marker',
      ).toEqual([]);
    } finally {
      await a.close();
    }
  });

  it('a mistyped id beside a filter is named and exits 4 (ids-with-filter.sh: silently ignored, exit 0)', async () => {
    const a = await open(REDIS);
    try {
      const queue = freshQueue('typo');
      await seedDead(a, queue, [{ id: 'job-1', type: 'email.welcome' }]);
      const purge = await runBg(['dead', 'purge', REDIS, 'job-l', '--type', 'email.welcome', '--queue', queue, '--yes']);
      expect({ code: purge.code, stderr: purge.stderr }, 'purge job-l --type email.welcome').toEqual({
        code: 4,
        stderr: `no dead letter job-l on ${queue}\n`,
      });
      const replay = await runBg(['dead', 'replay', REDIS, 'job-l', '--reason', 'manual', '--queue', queue, '--json']);
      expect(replay.code, 'replay job-l --reason manual').toBe(4);
      expect(JSON.parse(replay.stdout).notFound).toEqual(['job-l']);
      // An id that exists but that the filter leaves out is not "not there".
      const other = await runBg(['dead', 'purge', REDIS, 'job-1', '--type', 'other.type', '--queue', queue, '--yes']);
      expect({ code: other.code, stderr: other.stderr }, 'an existing id the filter excludes').toEqual({ code: 0, stderr: '' });
      expect(await deadIds(a, queue), 'nothing purged').toEqual(['job-1']);
    } finally {
      await a.close();
    }
  });
});

describe('bgctl enqueue refuses a job type with control characters (enqueue-ctrl-type.sh)', () => {
  it('is a usage error, and no control character reaches the terminal', async () => {
    for (const type of ['evil\u001b]0;pwned\u0007\u001b[2J', 'tab\there', 'c1\u009bx', 'nl\nx']) {
      for (const json of [[], ['--json']]) {
        const run = await runBg(['enqueue', 'memory:', type, '{}', ...json]);
        expect(run.code, `enqueue ${JSON.stringify(type)} ${json.join(' ')}: ${run.stdout}${run.stderr}`).toBe(2);
        expect(run.stdout, 'nothing enqueued').toBe('');
        expect(run.stderr, 'the error names the problem').toContain('control character');
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
        expect(run.stderr.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g) ?? [], 'raw control characters on stderr').toEqual(
          [],
        );
        expect(run.stderr.split('\n').length, `the type adds no line: ${run.stderr}`).toBe(json.length > 0 ? 2 : 3);
      }
    }
  });
});

describe('bgctl schema with a malformed snapshot entry (snapshot-malformed.sh)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const fixture = new URL('./fixtures/jobs-v1.mjs', import.meta.url).pathname;

  for (const [name, text, names] of [
    ['a job that is null', '{"format":1,"jobs":{"email.welcome":null}}', /job "email\.welcome"/],
    ['versions that are null', '{"format":1,"jobs":{"email.welcome":{"versions":null}}}', /job "email\.welcome"/],
    ['a version that is not a schema', '{"format":1,"jobs":{"email.welcome":{"versions":{"1":7}}}}', /"email\.welcome" v1/],
    [
      'a version key that is not a number',
      '{"format":1,"jobs":{"email.welcome":{"versions":{"one":{}}}}}',
      /"email\.welcome".*"one"/,
    ],
    ['jobs that are an array', '{"format":1,"jobs":[]}', /not a bg schema snapshot/],
  ] as const) {
    it(`names the file and the job for ${name}, exit 1, file untouched`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bg-cli-schema-bad-'));
      dirs.push(dir);
      const file = join(dir, 'bad.json');
      writeFileSync(file, text);
      for (const action of ['snapshot', 'check']) {
        const run = await runBg(['schema', action, fixture, '--file', file], { cwd: dir });
        expect(run.code, `schema ${action}: ${run.stdout}${run.stderr}`).toBe(1);
        expect(run.stderr, 'no JavaScript error text').not.toMatch(/Cannot read|TypeError|undefined/);
        expect(run.stderr, 'names the file').toContain(file);
        expect(run.stderr, 'names what is wrong').toMatch(names);
        const json = await runBg(['schema', action, fixture, '--file', file, '--json'], { cwd: dir });
        expect(JSON.parse(json.stderr).error, `schema ${action} --json`).toMatchObject({ exitCode: 1 });
        expect(readFileSync(file, 'utf8'), 'the file is not rewritten').toBe(text);
      }
    });
  }
});
