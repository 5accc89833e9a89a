/**
 * The benches' shared kit: every contestant (raw client, adapter, public API) runs the same
 * work in rotated rounds, stops at the same event (the last job's ack or delete confirmed), and
 * is measured in wall time and CPU (this process with `process.cpuUsage`, the server from
 * `/proc` where it runs in its own process); `runBench` prints one table of medians and medians
 * of per-round ratios to the raw client. A contestant's round may run in a fresh child process
 * per round (`isolatedRound`: its own heap, GC and JIT, one un-counted warm-up round first), so
 * that no contestant pays for another's garbage. Benchmarks only: never imported by tests.
 */
export { type AdapterRoundOptions, adapterRound } from './bench/adapter-round.js';
export { type BenchPayload, benchBody, benchEnvelopes, benchJob, benchPayloads, benchQueueName } from './bench/bench-job.js';
export {
  type BenchTableOptions,
  benchTable,
  type Contestant,
  type ContestantRole,
  type ContestantSummary,
  type RunBenchOptions,
  reportTarget,
  runBench,
  summarise,
} from './bench/compare.js';
export { type CoreRoundOptions, coreRound } from './bench/core-round.js';
export { type Drain, type DrainOptions, startDrain } from './bench/drain-loops.js';
export { type FauxqsProcess, startFauxqsProcess } from './bench/fauxqs-process.js';
export {
  type IsolatedRoundContext,
  type IsolatedRoundFn,
  type IsolatedRoundOptions,
  isolatedRound,
} from './bench/isolated-round.js';
export { type JobMessage, jobMessage, type RoundStamp, roundStamp } from './bench/job-message.js';
export { allocatedBytes, type HeapCollection, measure, type Sample, type ServerCpu } from './bench/meter.js';
export { pool } from './bench/pool.js';
export { processTreeCpuUs } from './bench/process-cpu.js';
export { RequestCounter, type RequestCounts } from './bench/request-counter.js';
export { printRequestTable } from './bench/request-table.js';
export type { RoundResult } from './bench/round-result.js';
export { median, runRounds } from './bench/rounds.js';
export { formatTable } from './bench/table.js';
