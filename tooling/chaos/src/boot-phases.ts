import type { LedgerEntry } from './ledger.js';

/**
 * Boot milestones a chaos worker process writes to its ledger (`e: 'boot'`), in order:
 * `process` Node's time origin (the process exists), `main` the worker module runs (its
 * static imports are loaded), `adapter` the adapter exists (`connect`: the SDK is imported
 * and the client made), `ensure-queue` the worker's `ensureQueue` at start returned,
 * `receive` the first `receive` call went out, `received` it returned.
 */
export const BOOT_PHASES = ['process', 'main', 'adapter', 'ensure-queue', 'receive', 'received'] as const;
/** One of {@link BOOT_PHASES}. */
export type BootPhase = (typeof BOOT_PHASES)[number];

/** Milliseconds from the fork of a worker process to each milestone (undefined: not reached). */
export type BootTimings = Readonly<Record<BootPhase | 'first-job', number | undefined>>;

/** One worker boot: wall time since the fork, and CPU time the process had used, per milestone. */
export interface Boot {
  readonly wall: BootTimings;
  /** CPU ms (user + system, all threads) at each milestone; `first-job` is never measured. */
  readonly cpu: BootTimings;
}

/**
 * The boot of worker `worker`, forked at `spawnedAt` (epoch ms), read from its ledger
 * entries: each milestone's first occurrence, and `first-job` (its first handler start).
 */
export function bootTimings(entries: readonly LedgerEntry[], worker: string, spawnedAt: number): Boot {
  const first = (match: (e: LedgerEntry) => boolean): LedgerEntry | undefined => entries.find((e) => e.w === worker && match(e));
  const wall: Record<string, number | undefined> = {};
  const cpu: Record<string, number | undefined> = {};
  for (const phase of BOOT_PHASES) {
    const hit = first((e) => e.e === 'boot' && e.phase === phase);
    wall[phase] = hit === undefined ? undefined : hit.t - spawnedAt;
    cpu[phase] = hit?.cpu;
  }
  const job = first((e) => e.e === 'start');
  wall['first-job'] = job === undefined ? undefined : job.t - spawnedAt;
  cpu['first-job'] = undefined;
  return { wall: wall as BootTimings, cpu: cpu as BootTimings };
}

/** The median of the defined values (undefined when there are none). */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid] : ((xs[mid - 1] ?? 0) + (xs[mid] ?? 0)) / 2;
}
