import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/busy-receive-worker.ts', import.meta.url));

interface Outcome {
  readonly ticks: number;
  readonly extends: number;
  readonly handled: number;
  readonly idleReceives: number;
  readonly idleMs: number;
  readonly stopped: boolean;
}

/** Runs the fixture in a child process and kills it at `deadlineMs` (a starved event loop never ends by itself). */
function runFixture(mode: string, deadlineMs: number): Promise<{ code: number | null; outcome?: Outcome; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop();
      resolve({ code, ...(line ? { outcome: JSON.parse(line) as Outcome } : {}), stderr });
    });
  });
}

describe('the receive loop never starves the event loop', () => {
  for (const mode of ['poll-0', 'instant-empty']) {
    it(`${mode}: timers fire, heartbeats extend the lease, stop() resolves, empty polls back off`, async () => {
      const { code, outcome, stderr } = await runFixture(mode, 15_000);
      expect(code, `the worker process did not finish within 15 s (event loop starved?); stderr: ${stderr}`).toBe(0);
      expect(outcome, `no outcome printed; stderr: ${stderr}`).toBeDefined();
      const o = outcome as Outcome;
      expect(o.handled, 'the long job was not handled').toBe(1);
      expect(o.stopped, 'worker.running after stop()').toBe(true);
      // A 10 ms interval over ~1 s of work: a starved loop would have ticked (almost) never.
      expect(o.ticks, `the 10 ms interval ticked ${o.ticks} times`).toBeGreaterThan(20);
      // A 400 ms handler on a 150 ms lease needs heartbeats (one every 50 ms).
      expect(o.extends, `heartbeats extended the lease ${o.extends} times`).toBeGreaterThanOrEqual(2);
      // Backing off from 5 ms to 250 ms (1 s with a long poll): a handful of polls in 1.2 s idle, not tens of thousands.
      expect(o.idleReceives, `${o.idleReceives} receives in ${o.idleMs} ms of an empty queue`).toBeLessThan(60);
      expect(o.idleReceives, 'the worker stopped polling altogether').toBeGreaterThan(0);
    }, 20_000);
  }
});
