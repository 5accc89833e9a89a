import type { Sample } from './meter.js';

/** One round of one contestant: N jobs enqueued, then drained (two measured phases). */
export interface RoundResult {
  readonly jobs: number;
  /** From the first send to the last send confirmed. */
  readonly enqueue: Sample;
  /** From the first receive to the last job's ack/delete confirmed. */
  readonly drain: Sample;
  /**
   * Further per-round figures of this bench (e.g. `'B/job'`: server memory per queued job):
   * {@link benchTable} adds one column per name, the median over the rounds.
   */
  readonly extra?: Readonly<Record<string, number>>;
  /**
   * The same contestant's last measured round in the same process, when it ran several back to
   * back (`isolatedRound`'s `measuredRounds`): its steady state (JIT tiered up, heap sized), where
   * this round is its cold end. {@link runBench} prints a second table of them.
   */
  readonly steady?: RoundResult;
}
