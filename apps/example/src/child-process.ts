/**
 * The demo's child processes (the service and the workers), started with this Node and its
 * loader flags, their output kept in a log file, and stopped by PID.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** A child process the demo started. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process ended. */
  readonly exited: Promise<number | string>;
  /** True until the process exited. */
  readonly running: boolean;
  /** Sends a signal to this process (by its PID). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the first stdout line matching `test`, or rejects after `timeoutMs` / on exit. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string>;
}

/** Starts `node <script>` with the parent's flags (e.g. `--import tsx`), logging to `logFile`. */
export function startChild(name: string, script: string, env: NodeJS.ProcessEnv, logFile: string): Child {
  const child = spawn(process.execPath, [...process.execArgv, script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let running = true;
  child.stderr?.pipe(log, { end: false });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    log.write(`${line}\n`);
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      for (const wake of waiters) wake();
      resolve(code ?? signal ?? -1);
      setTimeout(() => log.end(), 50);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${script})`);
  const pid = child.pid;
  return {
    name,
    pid,
    process: child,
    exited,
    get running() {
      return running;
    },
    signal(signal) {
      if (!running) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
    waitForLine(test, timeoutMs) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = (): void => {
          for (; seen < lines.length; seen++) {
            const line = lines[seen] as string;
            if (test(line)) {
              finish();
              resolve(line);
              return;
            }
          }
          if (!running) {
            finish();
            reject(new Error(`${name} exited before it was ready (see ${logFile})`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${name} was not ready after ${timeoutMs} ms (see ${logFile})`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
