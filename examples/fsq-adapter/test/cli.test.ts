import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Adapter } from '@bg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsqAdapter } from '../src/index.js';

/** The package folder: `bgctl` runs here and finds `bg-adapter-fsq` by name (the package itself). */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'fsq-cli-'));
const url = `fsq://${root}`;
const queue = 'mail';

/** Runs a shell command line (so `bgctl` is found by name on PATH, as a user types it). */
function sh(line: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', line], {
      cwd: PACKAGE_DIR,
      env: {
        ...process.env,
        PATH: `${join(PACKAGE_DIR, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
        BG_URL: '',
        NODE_NO_WARNINGS: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let adapter: Adapter;
const deadIds: string[] = [];

beforeAll(async () => {
  adapter = fsqAdapter({ root });
  await adapter.ensureQueue(queue);
  await adapter.send(queue, [
    { id: 'live-1', body: '{"n":1}' },
    { id: 'live-2', body: '{"n":2}' },
    { id: 'dead-1', body: '{"n":3,"text":"héllo ✓"}' },
    { id: 'dead-2', body: '{"n":4}' },
  ]);
  const got = await adapter.receive(queue, { max: 4, leaseMs: 60_000 });
  for (const m of got.filter((m) => m.id.startsWith('dead-'))) {
    await adapter.deadLetter(queue, m, { reason: 'permanent-error', attempts: 1, deadLetteredAt: Date.now() });
    await adapter.ack(queue, m.handle);
    deadIds.push(m.id);
  }
  for (const m of got.filter((m) => m.id.startsWith('live-'))) await adapter.release(queue, m.handle, 0);
});
afterAll(async () => {
  await adapter?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('bgctl operates fsq: queues by URL (installed @bg/cli, run through sh -c)', () => {
  it('bgctl stats with --adapter', async () => {
    const run = await sh(`bgctl stats '${url}' --queue ${queue} --json --adapter bg-adapter-fsq`);
    expect(run.code, `bgctl stats ${url} --adapter bg-adapter-fsq: ${run.stderr}`).toBe(0);
    expect(JSON.parse(run.stdout).queues, 'stats of the seeded queue').toEqual([
      { queue, ready: 2, inFlight: 0, delayed: 0, dead: 2 },
    ]);
  });

  it('bgctl stats without the adapter package says how to load it', async () => {
    const run = await sh(`bgctl stats '${url}' --queue ${queue}`);
    expect(run.code, `bgctl stats ${url} without --adapter: ${run.stdout}`).toBe(2);
    expect(run.stderr).toContain('--adapter <package>');
  });

  it('bgctl dead list, replay and purge with BGCTL_ADAPTERS', async () => {
    const env = { BGCTL_ADAPTERS: 'bg-adapter-fsq' };
    const list = await sh(`bgctl dead list '${url}' --queue ${queue} --json`, env);
    expect(list.code, `bgctl dead list: ${list.stderr}`).toBe(0);
    const items = JSON.parse(list.stdout).items as { id: string; body: string }[];
    expect(items.map((d) => d.id).sort(), 'dead letters listed by bgctl').toEqual([...deadIds].sort());
    expect(items.find((d) => d.id === 'dead-1')?.body, 'the body of dead-1, byte for byte').toBe('{"n":3,"text":"héllo ✓"}');

    const replay = await sh(`bgctl dead replay '${url}' dead-1 --queue ${queue} --yes`, env);
    expect(replay.code, `bgctl dead replay dead-1: ${replay.stderr}`).toBe(0);
    expect(await adapter.getDeadLetter(queue, 'dead-1'), 'dead-1 after the replay').toBeUndefined();
    expect(await adapter.stats(queue), 'stats after replaying dead-1').toMatchObject({ ready: 3, dead: 1 });
    const back = await adapter.receive(queue, { max: 10, leaseMs: 60_000 });
    const replayed = back.find((m) => m.id === 'dead-1');
    expect(replayed?.deliveryCount, 'the replayed job is live again with a fresh delivery count').toBe(1);
    expect(replayed?.body).toBe('{"n":3,"text":"héllo ✓"}');

    const purge = await sh(`bgctl dead purge '${url}' --all --queue ${queue} --yes`, env);
    expect(purge.code, `bgctl dead purge --all: ${purge.stderr}`).toBe(0);
    expect((await adapter.stats(queue)).dead, 'dead letters after the purge').toBe(0);
  });
});
