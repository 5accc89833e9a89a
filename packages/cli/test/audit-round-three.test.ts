import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import { type Adapter, connect } from '@bg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './capture-io.js';

/** What the third outside audit of bgctl found; each test failed on the code before its fix. */

const FLAKY = fileURLToPath(new URL('./fixtures/adapter-flaky.mjs', import.meta.url));
const id = (n: number) => `0190a0b0-c0d0-7e00-8000-${String(n).padStart(12, '0')}`;
const openMemory = (store: string): Promise<Adapter> => connect(`memory://${store}`, { load: (name) => import(name) });

/** Dead letters with the given types (one each), dead-lettered `n` seconds apart, oldest first. */
async function seedDead(adapter: Adapter, queue: string, types: readonly string[], firstId = 0): Promise<string[]> {
  await adapter.ensureQueue(queue);
  const ids: string[] = [];
  for (const [n, type] of types.entries()) {
    const jobId = id(firstId + n);
    const body = JSON.stringify({ bg: 1, id: jobId, type, v: 1, payload: {}, createdAt: new Date().toISOString() });
    await adapter.send(queue, [{ id: jobId, body, attributes: { 'bg-type': type } }]);
    const [m] = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 1_000 });
    if (!m) throw new Error(`seeding ${jobId}: nothing received`);
    await adapter.deadLetter(queue, m, {
      reason: 'permanent-error',
      error: { message: 'boom' },
      attempts: 1,
      deadLetteredAt: Date.now() - (types.length - n) * 1_000,
    });
    await adapter.ack(queue, m.handle);
    ids.push(jobId);
  }
  return ids;
}

async function seedLive(adapter: Adapter, queue: string, count: number, firstId: number): Promise<void> {
  await adapter.ensureQueue(queue);
  await adapter.send(
    queue,
    Array.from({ length: count }, (_, n) => ({ id: id(firstId + n), body: JSON.stringify({ n }) })),
  );
}

/** A loopback port nothing listens on (free a moment ago). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('job data printed for people stays on its line and in its direction (dead-evil.sh)', () => {
  // A type holding a newline made up a table row of its own; U+202E (right-to-left override)
  // showed "exe.png" as "gnp.exe"; a lone surrogate became U+FFFD; --json sent C1 CSI raw.
  const evilType = 'evil\nFAKE-ROW  x  permanent-error  1\u202egnp.exe\ud800\u009b2J';

  it('dead list (table), dead show and --json escape newlines, bidi overrides, lone surrogates and C1', async () => {
    const store = 'audit3-evil';
    const adapter = await openMemory(store);
    const [deadId] = await seedDead(adapter, 'evil', [evilType]);
    const list = await runCaptured(['dead', 'list', `memory://${store}`, '--queue', 'evil']);
    expect(list.code, list.err).toBe(0);
    const lines = list.out.trimEnd().split('\n');
    expect(lines.length, `dead list prints a header and ONE row for one dead letter:\n${list.out}`).toBe(2);
    for (const raw of ['\u202e', '\ud800', '\u009b']) {
      expect(list.out.includes(raw), `raw U+${raw.charCodeAt(0).toString(16)} in the table`).toBe(false);
    }
    expect(lines[1], 'the type cell shows its newline and override as escapes').toContain('evil\\u000aFAKE-ROW');
    expect(lines[1]).toContain('\\u202egnp.exe\\ud800\\u009b2J');

    const show = await runCaptured(['dead', 'show', `memory://${store}`, '--queue', 'evil', deadId as string]);
    expect(show.code, show.err).toBe(0);
    const typeLine = show.out.split('\n').find((l) => l.startsWith('type:'));
    expect(typeLine, `dead show keeps the type on its line:\n${show.out}`).toBe(
      'type:      evil\\u000aFAKE-ROW  x  permanent-error  1\\u202egnp.exe\\ud800\\u009b2J',
    );
    expect(show.out.includes('\u202e') || show.out.includes('\u009b'), 'raw override or C1 in dead show').toBe(false);

    const json = await runCaptured(['dead', 'list', `memory://${store}`, '--queue', 'evil', '--json']);
    expect(json.code, json.err).toBe(0);
    expect(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(json.out), `raw C1 or bidi character in --json: ${json.out}`).toBe(
      false,
    );
    expect(JSON.parse(json.out).items[0].type, '--json still holds the exact type').toBe(evilType);
  });
});

describe('dead list says when --limit cut the list (dead-10k.sh: 50 of 10 000 looked like all of them)', () => {
  it('a note on stderr, and "more" in --json', async () => {
    const store = 'audit3-more';
    await seedDead(await openMemory(store), 'many', ['a.job', 'a.job', 'a.job']);
    const cut = await runCaptured(['dead', 'list', `memory://${store}`, '--queue', 'many', '--limit', '2']);
    expect(cut.code, cut.err).toBe(0);
    expect(cut.err, 'dead list --limit 2 of 3').toContain('more dead letters match: these are the oldest 2');
    const cutJson = await runCaptured(['dead', 'list', `memory://${store}`, '--queue', 'many', '--limit', '2', '--json']);
    expect(JSON.parse(cutJson.out), 'dead list --limit 2 --json of 3').toMatchObject({ more: true });
    expect(JSON.parse(cutJson.out).items.length).toBe(2);
    const whole = await runCaptured(['dead', 'list', `memory://${store}`, '--queue', 'many', '--limit', '3', '--json']);
    expect(JSON.parse(whole.out), 'dead list --limit 3 --json of 3').toMatchObject({ more: false });
    const dry = await runCaptured([
      'dead',
      'purge',
      `memory://${store}`,
      '--queue',
      'many',
      '--all',
      '--limit',
      '1',
      '--dry-run',
    ]);
    expect(dry.out, 'purge --limit 1 --dry-run of 3').toContain('--limit leaves more that match');
  });
});

describe('exit codes tell an unreachable backend and refused credentials apart (exit-codes.sh: both were 1)', () => {
  let secured: RedisServer | undefined;
  beforeAll(async () => {
    secured = await startRedis({ password: 'audit3-Pa55' });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it('UNREACHABLE is 6', async () => {
    const run = await runCaptured(['stats', `redis://127.0.0.1:${await deadPort()}`, '--json']);
    expect(JSON.parse(run.err), 'stats of a port nothing listens on').toMatchObject({
      error: { code: 'UNREACHABLE', exitCode: 6 },
    });
    expect(run.code).toBe(6);
  });

  it('AUTH_FAILED is 7, and the wrong password is not printed', async (ctx) => {
    if (!secured) return ctx.skip();
    const url = secured.url.replace('audit3-Pa55', 'wrong-Pa55-xyz');
    expect(url, 'the harness URL carries the password').toContain('wrong-Pa55-xyz');
    const run = await runCaptured(['stats', url]);
    expect({ code: run.code, line: run.err.split(': ')[1] }, run.err).toEqual({ code: 7, line: 'AUTH_FAILED' });
    expect(run.err).not.toContain('wrong-Pa55-xyz');
  });
});

describe('bgctl move of several queues (move-partial.sh)', () => {
  it('a queue missing on the destination is found before anything moves (the first queue had moved, exit 4 said nothing of it)', async () => {
    const store = 'audit3-move-src';
    const source = await openMemory(store);
    const destination = await openMemory('audit3-move-dst');
    await seedLive(source, 'first', 3, 100);
    await seedLive(source, 'second', 2, 200);
    await destination.ensureQueue('first');
    const run = await runCaptured([
      'move',
      '--from',
      `memory://${store}`,
      '--to',
      'memory://audit3-move-dst',
      '--queue',
      'first,second',
      '--idle',
      '50',
    ]);
    expect(run.code, run.err).toBe(4);
    expect(run.err).toContain('"second" does not exist');
    expect(
      { source: (await source.stats('first')).ready, destination: (await destination.stats('first')).ready },
      'jobs of the first queue after a refused move',
    ).toEqual({ source: 3, destination: 0 });
  });

  it('a failure half-way says what had moved (stdout JSON) and exits with the failure (6)', async () => {
    const store = 'audit3-half-src';
    const source = await openMemory(store);
    const destination = await openMemory('audit3-half-dst');
    await seedLive(source, 'first', 3, 300);
    await seedLive(source, 'second', 2, 400);
    await destination.ensureQueue('first');
    await destination.ensureQueue('second');
    const run = await runCaptured([
      'move',
      '--from',
      `memory://${store}`,
      '--to',
      'flaky-mem://audit3-half-dst?failSend=second',
      '--queue',
      'first,second',
      '--idle',
      '50',
      '--json',
      '--adapter',
      FLAKY,
    ]);
    expect(run.code, run.err).toBe(6);
    const summary = JSON.parse(run.out);
    expect(summary, 'move --json summary of a move that failed on its second queue').toMatchObject({
      queues: [{ queue: 'first', live: 3 }],
      failed: { queue: 'second', code: 'UNREACHABLE' },
    });
    expect(JSON.parse(run.err), 'the error on stderr').toMatchObject({ error: { code: 'UNREACHABLE', exitCode: 6 } });
    expect((await source.stats('second')).ready, 'jobs of the failed queue, back on the source').toBe(2);
  });
});

describe('bgctl dead replay that does not replay everything it selected (replay-partial.sh)', () => {
  it('a failure half-way prints how many were replayed before the error', async () => {
    const store = 'audit3-replay-fail';
    await seedDead(await openMemory(store), 'replays', ['a.job', 'a.job', 'a.job', 'a.job'], 500);
    const run = await runCaptured([
      'dead',
      'replay',
      `flaky-mem://${store}?replayOk=2`,
      '--queue',
      'replays',
      '--all',
      '--json',
      '--adapter',
      FLAKY,
    ]);
    expect(run.code, run.err).toBe(6);
    expect(JSON.parse(run.out), 'dead replay --json summary when the 3rd replay failed').toMatchObject({
      count: 2,
      selected: 4,
      error: { code: 'UNREACHABLE' },
    });
    const human = await runCaptured([
      'dead',
      'replay',
      `flaky-mem://${store}?replayOk=1`,
      '--queue',
      'replays',
      '--all',
      '--adapter',
      FLAKY,
    ]);
    expect(human.out, human.err).toBe('replayed 1 of 2 dead letter(s) on replays before it failed (rerun to continue)\n');
    expect(human.err).toContain('UNREACHABLE');
  });

  it('dead letters gone between listing and replay are named and exit 4 (it exited 0)', async () => {
    const store = 'audit3-replay-gone';
    const ids = await seedDead(await openMemory(store), 'gone-q', ['a.job', 'a.job', 'a.job'], 600);
    const run = await runCaptured([
      'dead',
      'replay',
      `flaky-mem://${store}?replayGone=1`,
      '--queue',
      'gone-q',
      '--all',
      '--adapter',
      FLAKY,
    ]);
    expect(run.out).toBe('replayed 2 of 3 dead letter(s) on gone-q\n');
    expect(run.code, run.err).toBe(4);
    expect(run.err, 'the one that was gone is named').toContain(ids[0]);
  });
});
