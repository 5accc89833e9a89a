/**
 * The completion ledger: an append-only JSON-lines file per worker process, outside the
 * queue, so the demo can prove that nothing was lost (and count at-least-once duplicates).
 * @module
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** One line of a worker's ledger. `t` is `Date.now()` of the writing process. */
export type LedgerEntry =
  | { readonly e: 'up'; readonly w: string; readonly pid: number; readonly t: number }
  | {
      readonly e: 'start';
      readonly w: string;
      readonly id: string;
      readonly type: string;
      readonly attempt: number;
      readonly t: number;
    }
  | {
      /** The handler finished: written before the ack, so a crash in between makes a duplicate. */
      readonly e: 'done';
      readonly w: string;
      readonly id: string;
      readonly type: string;
      readonly attempt: number;
      /** Payload version the job was enqueued with (before migration). */
      readonly v: number;
      /** What the handler wants to show (e.g. the locale of a migrated email). */
      readonly detail?: string;
      readonly t: number;
    }
  | { readonly e: 'back'; readonly w: string; readonly id: string; readonly t: number }
  | {
      readonly e: 'dead';
      readonly w: string;
      readonly id: string;
      readonly reason: string;
      readonly error: string;
      readonly t: number;
    }
  | { readonly e: 'down'; readonly w: string; readonly t: number };

/** Appends entries to one worker process's ledger file. */
export interface LedgerWriter {
  /** The file written. */
  readonly file: string;
  /** Appends one line synchronously (the kernel has it once this returns, even if the process dies). */
  write(entry: LedgerEntry): void;
  close(): void;
}

/** Opens `<dir>/<worker>-<pid>.jsonl` for appending (creates the folder). */
export function openLedger(dir: string, worker: string): LedgerWriter {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${worker}-${process.pid}.jsonl`);
  let fd: number | undefined = openSync(file, 'a');
  return {
    file,
    write(entry) {
      if (fd === undefined) return;
      writeSync(fd, `${JSON.stringify(entry)}\n`);
    },
    close() {
      if (fd === undefined) return;
      closeSync(fd);
      fd = undefined;
    },
  };
}

/**
 * Reads every ledger file of a folder. A last line cut short by `kill -9` is skipped; so is
 * anything that is not a ledger entry.
 */
export function readLedgers(dir: string): LedgerEntry[] {
  if (!existsSync(dir)) return [];
  const entries: LedgerEntry[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.jsonl')) continue;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line.length === 0) continue;
      try {
        const entry = JSON.parse(line) as LedgerEntry;
        if (typeof entry === 'object' && entry !== null && typeof entry.e === 'string') entries.push(entry);
      } catch {
        // a line torn by kill -9
      }
    }
  }
  return entries;
}
