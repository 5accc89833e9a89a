import type { Adapter } from '@bg/core';
import type { ConformanceOptions, ExpectLike, Inspector, Timing } from './options.js';

/** What a case gets: a fresh adapter and queue, the inspector and the knobs. */
export interface CaseContext {
  /** The adapter under test, fresh for this case. */
  readonly adapter: Adapter;
  /** A fresh queue, already ensured. */
  readonly queue: string;
  readonly inspector: Inspector;
  readonly timing: Timing;
  readonly expect: ExpectLike;
  readonly options: ConformanceOptions;
  /** Another fresh, ensured queue on the same adapter. */
  newQueue(): Promise<string>;
  /** Another adapter on the same backend (another "process"), closed after the case. */
  newAdapter(): Promise<Adapter>;
  /** Registers cleanup run after the case, last first. */
  defer(fn: () => Promise<void> | void): void;
}

/** One conformance case. */
export interface ConformanceCase {
  /** Stable id, e.g. `lease.stale-handle-after-expiry`; used in `exclude` and by self-tests. */
  readonly id: string;
  /** Group shown in the report, e.g. `Lease`. */
  readonly group: string;
  /** What it proves. */
  readonly title: string;
  /** Returns why the case does not apply to this adapter, or undefined to run it. */
  readonly skip?: (options: ConformanceOptions) => string | undefined;
  /** Multiplies the case timeout (slow cases). */
  readonly slow?: number;
  readonly run: (ctx: CaseContext) => Promise<void>;
}
