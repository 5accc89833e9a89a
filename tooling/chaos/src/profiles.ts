/** How hard a chaos run pushes. */
export interface ChaosProfile {
  readonly name: string;
  /** Jobs enqueued (≈ 94% healthy, 5% flaky, 1% poison). */
  readonly jobs: number;
  /** Worker processes kept running. */
  readonly workers: number;
  /** Handler concurrency per worker process. */
  readonly concurrency: number;
  /** Handler work time, uniformly random in [min, max] ms. */
  readonly workMs: readonly [number, number];
  /** A random worker is killed (`kill -9`) and replaced about this often. */
  readonly killEveryMs: number;
  /** At most this many kills (the full profile kills until the queue is drained). */
  readonly maxKills: number;
  /** When the garbage is injected, ms after the workers start. */
  readonly garbageAtMs: number;
  /** When the backend is restarted in place (where it persists). */
  readonly restartAtMs: number;
  /** When the backend is stopped for {@link ChaosProfile.outageMs} (where it persists). */
  readonly outageAtMs: number;
  readonly outageMs: number;
  /** The run fails if the queue is not drained by then (ms after the workers start). */
  readonly deadlineMs: number;
  /** Grace period of the final graceful stop of the workers. */
  readonly graceMs: number;
}

/** The CI profile: a few hundred jobs, a few kills, one restart, one short outage. */
export const CI_PROFILE: ChaosProfile = {
  name: 'ci',
  jobs: 300,
  workers: 3,
  concurrency: 4,
  workMs: [100, 400],
  killEveryMs: 1_000,
  maxKills: 4,
  garbageAtMs: 300,
  restartAtMs: 1_500,
  outageAtMs: 3_500,
  outageMs: 3_000,
  deadlineMs: 90_000,
  graceMs: 3_000,
};

/** The full profile of the issue: 10 000 jobs, a kill every second until drained. */
export const FULL_PROFILE: ChaosProfile = {
  name: 'full',
  jobs: 10_000,
  workers: 3,
  concurrency: 16,
  workMs: [5, 100],
  killEveryMs: 1_000,
  maxKills: Number.POSITIVE_INFINITY,
  garbageAtMs: 1_000,
  restartAtMs: 10_000,
  outageAtMs: 20_000,
  outageMs: 5_000,
  deadlineMs: 45 * 60_000,
  graceMs: 5_000,
};

/**
 * The self-proof profile (`test/self-proof.test.ts`): small enough to run twice on every
 * push, once with workers that lose jobs on purpose and once with healthy ones. Handlers
 * are slow enough that each worker always has jobs in hand when it is killed. The backend is
 * neither restarted nor stopped (the test runs it without those faults): the proof is about
 * the verdict on kills, which the CI profile exercises with every fault.
 */
export const SELF_PROOF_PROFILE: ChaosProfile = {
  name: 'self-proof',
  jobs: 120,
  workers: 3,
  concurrency: 4,
  workMs: [150, 450],
  killEveryMs: 700,
  maxKills: 3,
  garbageAtMs: 300,
  restartAtMs: 1_500,
  outageAtMs: 3_500,
  outageMs: 3_000,
  deadlineMs: 60_000,
  graceMs: 2_000,
};
