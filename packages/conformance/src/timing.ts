import type { Capabilities } from '@bg/core';
import type { Timing } from './options.js';

/** Timing defaults, suited to an in-process backend. */
export const DEFAULT_TIMING: Timing = Object.freeze({
  leaseMs: 300,
  deadlineMs: 5_000,
  quietMs: 300,
  toleranceMs: 100,
  pollMs: 100,
  promptMs: 500,
  caseTimeoutMs: 30_000,
});

/** Fills timing knobs with defaults. */
export function resolveTiming(partial: Partial<Timing> | undefined): Timing {
  return { ...DEFAULT_TIMING, ...partial };
}

/** The lease the suite uses for expiry cases: the knob raised to the backend's minimum. */
export function shortLease(timing: Timing, capabilities: Capabilities): number {
  return Math.max(timing.leaseMs, capabilities.minLeaseMs);
}

/** A lease long enough never to expire during a case. */
export function longLease(timing: Timing, capabilities: Capabilities): number {
  return Math.min(capabilities.maxLeaseMs, Math.max(60_000, timing.caseTimeoutMs * 2));
}

/** How long a "happens at once" check waits: `promptMs` plus one long poll. */
export function promptly(timing: Timing): number {
  return timing.promptMs + timing.pollMs;
}
