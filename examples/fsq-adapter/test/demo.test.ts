import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const folder = mkdtempSync(join(tmpdir(), 'fsq-demo-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('the README example (demo.mjs)', () => {
  it('enqueues three jobs by URL and works them off', async () => {
    const demo = fileURLToPath(new URL('../demo.mjs', import.meta.url));
    const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [demo, folder], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out, err }));
    });
    expect(run.code, `node demo.mjs: ${run.err}`).toBe(0);
    for (const user of ['u1', 'u2', 'u3']) expect(run.out, `demo output names ${user}`).toContain(`welcome ${user} `);
    expect(run.out.trim().split('\n').at(-1), 'the final stats line').toBe('{"ready":0,"inFlight":0,"delayed":0,"dead":0}');
  });
});
