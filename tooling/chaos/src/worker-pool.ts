import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChaosBackend } from './backends.js';
import { TEST_ONLY_BREAKAGE_ENV, type TestOnlyBreakage } from './breakage.js';
import { buildWorker } from './worker-build.js';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Where the workers keep V8's compile cache (ignored by git). */
const COMPILE_CACHE_DIR = fileURLToPath(new URL('../.tmp/compile-cache/', import.meta.url));

/** How a worker process ended. */
export interface WorkerExit {
  readonly id: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the harness killed it (`kill -9`) or asked it to stop (SIGTERM, then exit 0). */
  readonly expected: boolean;
  readonly at: number;
}

/** A running worker process. */
export interface WorkerProcess {
  readonly id: string;
  readonly child: ChildProcess;
  /** When the harness forked it (epoch ms). */
  readonly startedAt: number;
  /** Resolves when it exited. */
  readonly exited: Promise<WorkerExit>;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  readonly backend: ChaosBackend;
  readonly queue: string;
  /** Folder of the ledgers and worker logs. */
  readonly runDir: string;
  readonly concurrency: number;
  readonly graceMs: number;
  /**
   * Run the TypeScript source through `node --import tsx` instead of the transpiled worker
   * (the harness's old way, kept to measure what it cost: `pnpm boot-time --tsx`).
   */
  readonly viaTsx?: boolean;
  /** Tests only: every worker process forked loses jobs on purpose (see `breakage.ts`). */
  readonly testOnlyBreakage?: TestOnlyBreakage;
}

const pools = new Set<WorkerPool>();

/** `kill -9` of every worker process of every pool (the harness is being interrupted). */
export function killAllWorkers(): void {
  for (const pool of pools) for (const w of pool.live) w.child.kill('SIGKILL');
}

/** Starts, kills and stops worker processes, and remembers how each one ended. */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #script: string;
  readonly #live = new Map<string, WorkerProcess>();
  readonly #killed = new Set<string>();
  readonly #stopping = new Set<string>();
  readonly exits: WorkerExit[] = [];
  /** Every worker process forked: id and fork time (epoch ms). */
  readonly spawned: { id: string; at: number }[] = [];
  /** Kills done by the harness: worker id and time. */
  readonly kills: { id: string; at: number }[] = [];
  #next = 0;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#script = options.viaTsx ? fileURLToPath(new URL('./worker-process.ts', import.meta.url)) : buildWorker();
    pools.add(this);
  }

  /** Worker processes currently running. */
  get live(): WorkerProcess[] {
    return [...this.#live.values()];
  }

  /** Worker processes that are up and receiving (they wrote their ready marker). */
  get ready(): WorkerProcess[] {
    return this.live.filter((w) => existsSync(join(this.#options.runDir, `${w.id}.ready`)));
  }

  /** Forks a new worker process. */
  spawn(): WorkerProcess {
    const { backend, queue, runDir, concurrency, graceMs } = this.#options;
    const id = `w${++this.#next}`;
    const startedAt = Date.now();
    const log = openSync(join(runDir, `${id}.log`), 'a');
    const child = fork(this.#script, [], {
      cwd: PACKAGE_DIR,
      // Plain node: the worker is transpiled JavaScript (see buildWorker).
      execArgv: this.#options.viaTsx ? ['--import', 'tsx'] : [],
      stdio: ['ignore', log, log, 'ipc'],
      env: {
        ...process.env,
        CHAOS_WORKER: id,
        CHAOS_LEDGER: runDir,
        CHAOS_QUEUE: queue,
        CHAOS_LEASE_MS: String(backend.leaseMs),
        CHAOS_CONCURRENCY: String(concurrency),
        CHAOS_GRACE_MS: String(graceMs),
        // Set only when a test asks for it; never inherited from the harness's environment.
        [TEST_ONLY_BREAKAGE_ENV]: this.#options.testOnlyBreakage,
        ...(backend.url !== undefined
          ? { CHAOS_URL: backend.url }
          : backend.cluster !== undefined
            ? { CHAOS_REDIS_CLUSTER: JSON.stringify(backend.cluster) }
            : { CHAOS_CAPABILITIES: JSON.stringify(backend.adapter.capabilities) }),
        METADATA_SERVER_DETECTION: 'none',
        // Node's on-disk compile cache (Node >= 22.1), shared by every worker of every run;
        // the application's choice, set here as an application would (RELIABILITY.md has its worth).
        NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? COMPILE_CACHE_DIR,
      },
    });
    closeSync(log);
    const unserve = backend.serve?.(child);
    const exited = new Promise<WorkerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        unserve?.();
        this.#live.delete(id);
        const expected =
          (this.#killed.has(id) && signal === 'SIGKILL') || (this.#stopping.has(id) && code === 0 && signal === null);
        const exit: WorkerExit = { id, code, signal, expected, at: Date.now() };
        this.exits.push(exit);
        resolve(exit);
      });
    });
    const worker: WorkerProcess = { id, child, startedAt, exited };
    this.spawned.push({ id, at: startedAt });
    this.#live.set(id, worker);
    return worker;
  }

  /** `kill -9` of a worker. */
  kill(worker: WorkerProcess): void {
    this.#killed.add(worker.id);
    this.kills.push({ id: worker.id, at: Date.now() });
    worker.child.kill('SIGKILL');
  }

  /** SIGTERM (graceful stop); the process must exit 0 by itself. */
  terminate(worker: WorkerProcess): void {
    this.#stopping.add(worker.id);
    worker.child.kill('SIGTERM');
  }

  /**
   * Stops every live worker gracefully and waits for them; one still alive after
   * `timeoutMs` is killed and counts as an unexpected exit.
   */
  async stopAll(timeoutMs: number): Promise<void> {
    const live = this.live;
    const ready = new Set(this.ready.map((w) => w.id));
    for (const w of live) {
      // A worker still booting has no signal handler and no job yet: stopping it is a kill.
      if (ready.has(w.id)) this.terminate(w);
      else this.kill(w);
    }
    const timer = setTimeout(() => {
      for (const w of this.live) {
        this.#stopping.delete(w.id);
        w.child.kill('SIGKILL');
      }
    }, timeoutMs);
    await Promise.all(live.map((w) => w.exited));
    clearTimeout(timer);
  }
}
