import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fsqAdapter } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'fsq-procs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CHILD = fileURLToPath(new URL('./consumer-child.mjs', import.meta.url));

function consumer(queue: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, FSQ_ROOT: root, QUEUE: queue },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`consumer process exited with ${code}`));
      else resolve(JSON.parse(out) as string[]);
    });
  });
}

describe('competing consumers in separate processes', () => {
  it('four processes draining one queue get every job exactly once', async () => {
    const queue = 'shared';
    const adapter = fsqAdapter({ root });
    await adapter.ensureQueue(queue);
    const ids = Array.from({ length: 300 }, (_, n) => `job-${n}`);
    for (let i = 0; i < ids.length; i += 100) {
      await adapter.send(
        queue,
        ids.slice(i, i + 100).map((id) => ({ id, body: id })),
      );
    }
    const results = await Promise.all([consumer(queue), consumer(queue), consumer(queue), consumer(queue)]);
    const all = results.flat();
    const twice = all.filter((id, i) => all.indexOf(id) !== i);
    expect(twice, 'ids received by more than one lease (a lease that was not atomic across processes)').toEqual([]);
    expect([...all].sort(), 'every job received once across the four processes').toEqual([...ids].sort());
    expect(await adapter.stats(queue), 'nothing left after every job was acked').toEqual({
      ready: 0,
      inFlight: 0,
      delayed: 0,
      dead: 0,
    });
    await adapter.close();
  });
});
