import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes (then throws with `what`). */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A private data directory under the OS temp folder. */
export function makeDataDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `bg-${prefix}-`));
}

/** Removes a data directory (ignores errors). */
export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A server child process we started and will stop by PID. */
export interface ServerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Collected stderr/stdout tail, for error messages. */
  output(): string;
  /** SIGTERM (or the given signal), then SIGKILL after `graceMs`; resolves when it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** True until the process exited. */
  readonly running: boolean;
}

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions {
  /**
   * Run it as the leader of its own process group and signal the whole group (for start
   * scripts that may fork, like the JVM-based Pub/Sub emulator). The group is also killed
   * if this process exits without stopping it, and once more after `stop()`.
   */
  readonly processGroup?: boolean;
  /** Run it as this OS user (uid/gid), e.g. PostgreSQL as `postgres` when we are root. */
  readonly user?: { readonly uid: number; readonly gid: number };
}

/** Spawns a server process detached from our stdio, keeping the last 8 KiB of its output. */
export function spawnServer(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  options: SpawnServerOptions = {},
): ServerProcess {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    detached: options.processGroup === true,
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  let tail = '';
  let running = true;
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running = false;
      resolve();
    });
    child.once('error', (error) => {
      tail += `\n${String(error)}`;
      running = false;
      resolve();
    });
  });
  const signal = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    if (options.processGroup) {
      try {
        // Negative PID: the whole process group.
        process.kill(-child.pid, sig);
        return;
      } catch {
        // no group (already gone): fall back to the process itself
      }
    }
    try {
      process.kill(child.pid, sig);
    } catch {
      // already gone
    }
  };
  // Last resort if the caller never stops it (crashed test run): no orphaned group.
  const onExit = (): void => signal('SIGKILL');
  if (options.processGroup) process.once('exit', onExit);
  return {
    get pid() {
      return child.pid ?? -1;
    },
    child,
    output: () => tail,
    get running() {
      return running;
    },
    async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 5_000) {
      process.removeListener('exit', onExit);
      if (running && child.pid !== undefined) {
        signal(sig);
        const timer = setTimeout(() => {
          if (running) signal('SIGKILL');
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      // A group may leave members behind for a moment; make sure none survive.
      if (options.processGroup) signal('SIGKILL');
    },
  };
}

/**
 * What to do when a backend's server is not installed: in CI (`CI` set) it is a failure;
 * on a laptop the caller skips with this message.
 */
export function missingBackend(name: string, install: string): { fail: boolean; message: string } {
  const message = `${name} is not installed: ${install}`;
  return { fail: Boolean(process.env.CI), message };
}
