import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** One ledger line. `t` is epoch ms, `w` the worker process that wrote it. */
export interface LedgerEntry {
  readonly t: number;
  readonly w: string;
  /**
   * `start`/`done`: a handler began / finished (written by the handler itself, before the ack);
   * `retried`, `dead`, `deferred`, `lease-lost`, `error`: the worker's events;
   * `received`: a delivery reached the worker (`attempt`: its delivery count), before any
   * handler; `ready`: the process is up and receiving; `boot`: a boot milestone (`phase`, at `t`).
   */
  readonly e: 'start' | 'done' | 'retried' | 'dead' | 'deferred' | 'lease-lost' | 'error' | 'ready' | 'boot' | 'received';
  readonly id?: string;
  readonly attempt?: number;
  readonly reason?: string;
  readonly message?: string;
  /** Of a `boot` entry: which milestone (see `BOOT_PHASES` in `boot-phases.ts`). */
  readonly phase?: string;
  /** Of a `boot` entry: CPU time (user + system, ms) the process had used by then. */
  readonly cpu?: number;
}

/**
 * An append-only ledger file owned by one worker process. Every line is written with one
 * `write(2)` on an `O_APPEND` descriptor before the call returns, so it is in the kernel
 * (and survives `kill -9` of the writer) by the time the handler acks its job. The adapter
 * under test never sees these files.
 */
export class LedgerWriter {
  readonly #fd: number;
  readonly #worker: string;

  constructor(dir: string, worker: string) {
    this.#fd = openSync(join(dir, `${worker}.ledger`), 'a');
    this.#worker = worker;
  }

  /** Appends one entry (synchronously). */
  write(entry: Omit<LedgerEntry, 't' | 'w'>, t: number = Date.now()): void {
    writeSync(this.#fd, `${JSON.stringify({ t, w: this.#worker, ...entry })}\n`);
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.#fd);
  }
}

/** Reads every ledger file of a directory (a torn last line of a killed writer is skipped). */
export function readLedgers(dir: string): LedgerEntry[] {
  if (!existsSync(dir)) return [];
  const entries: LedgerEntry[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.ledger')) continue;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line.length === 0) continue;
      try {
        entries.push(JSON.parse(line) as LedgerEntry);
      } catch {
        // a line cut by kill -9 mid-write (cannot happen with one write(2), but never trust it)
      }
    }
  }
  return entries.sort((a, b) => a.t - b.t);
}
