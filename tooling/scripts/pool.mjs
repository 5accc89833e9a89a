// A pool of CI jobs (test runs, the type check, lint, builds) run a few at a time, the
// heaviest ready job first, so that the longest runs start early and the run does not end
// with one of them alone. Jobs may be added while the pool runs (the floor run's jobs once
// its copy is installed and built).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { exitedOk } from './suite.mjs';

/**
 * A job of the pool: `run` resolves true when it succeeded (it must not reject); `weight`
 * (expected seconds) orders the ready jobs, heaviest first; `slots` (default 1) is the share of
 * the pool it holds while it runs (less than 1 for a run that mostly waits on a server).
 * @typedef {{ title: string, weight: number, slots?: number, run: () => Promise<boolean> }} PoolJob
 */

/**
 * Creates a pool that starts the heaviest ready job whenever the slots of the running ones add
 * up to less than `concurrency` (so a part-slot job never leaves the rest of its slot idle: the
 * running jobs may hold up to one slot more). `add(job)` queues a job;
 * `close()` says no more will be added; `done` resolves, once every job has ended after
 * `close()`, to the titles of the jobs that failed.
 * @param {number} concurrency
 */
export function createPool(concurrency) {
  /** @type {PoolJob[]} */
  const ready = [];
  /** @type {string[]} */
  const failed = [];
  let running = 0;
  let used = 0;
  let closed = false;
  /** @type {(failed: string[]) => void} */
  let finish = () => {};
  const done = new Promise((resolve) => {
    finish = resolve;
  });
  const next = () => {
    ready.sort((a, b) => b.weight - a.weight);
    for (;;) {
      if (ready.length === 0 || used >= concurrency - 1e-9) break;
      const job = /** @type {PoolJob} */ (ready.shift());
      const slots = job.slots ?? 1;
      running++;
      used += slots;
      const startedAt = Date.now();
      console.log(`\n=== pool: start ${job.title} (${running} running, ${ready.length} waiting)`);
      job
        .run()
        .catch(() => false)
        .then((ok) => {
          running--;
          used -= slots;
          if (!ok) failed.push(job.title);
          console.log(`\n=== pool: ${job.title} ${ok ? 'ok' : 'FAILED'} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
          next();
        });
    }
    if (closed && running === 0 && ready.length === 0) finish(failed);
  };
  // Jobs added in one go (one synchronous stretch of code) are ordered together before any starts.
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      next();
    });
  };
  return {
    /** @param {PoolJob} job */
    add(job) {
      ready.push(job);
      schedule();
    },
    close() {
      closed = true;
      schedule();
    },
    done,
  };
}

/**
 * Runs a command with each line of its output (stdout and stderr) prefixed by `prefix`, as
 * turbo prefixes its tasks' lines (`@bg/chaos:test: …`); resolves true when it exits 0.
 * @param {string} prefix
 * @param {string} cmd
 * @param {readonly string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv }} options
 */
export function runPrefixed(prefix, cmd, args, { cwd, env }) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => console.log(`${prefix}${line}`));
  }
  return exitedOk(child);
}
