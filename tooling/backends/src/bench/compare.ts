import { loadavg } from 'node:os';
import type { RoundResult } from './round-result.js';
import { median, runRounds } from './rounds.js';
import { formatTable } from './table.js';

/**
 * What a contestant is: `raw` is the baseline (the backend's own client doing the same work),
 * a `ceiling` does less than the others (an upper bound, not a peer), a `peer` is another
 * library, `adapter` and `core` are bg at adapter level and through the public API.
 */
export type ContestantRole = 'raw' | 'ceiling' | 'peer' | 'adapter' | 'core';

/**
 * One contestant of a bench: a name, a role and one round of work. The round runs in this
 * process, or in a fresh child process per round with {@link isolatedRound} (so that no
 * contestant pays for the heap, GC or JIT state another one left behind).
 */
export interface Contestant {
  readonly name: string;
  readonly role: ContestantRole;
  /** A short name `BENCH_ONLY` may use instead of the role (e.g. `worker`). */
  readonly key?: string;
  round(): Promise<RoundResult>;
}

/** Options of {@link runBench}. */
export interface RunBenchOptions {
  /** First line printed: backend, server, sizes. */
  readonly title: string;
  readonly rounds: number;
  readonly contestants: readonly Contestant[];
  /** Name of the contestant the ratios compare with (default: the first `raw`). */
  readonly baseline?: string;
  /**
   * Run only the contestants of these roles or keys (default: `BENCH_ONLY`, a comma-separated
   * list such as `raw,core`; unset runs all), e.g. to profile one of them alone.
   */
  readonly only?: readonly string[];
  /**
   * Print CPU per job of each phase (enqueue: client + server; drain: client, server and the
   * client's GC share of the drain's wall time) instead of the two end-to-end CPU columns.
   */
  readonly phases?: boolean;
  /**
   * When the rounds carry a steady state (`isolatedRound`'s `measuredRounds` > 1), the lines
   * printed above the two tables: what the cold one and the steady-state one measure.
   */
  readonly coldTitle?: string;
  readonly steadyTitle?: string;
}

/** Medians of one contestant over the rounds. */
export interface ContestantSummary {
  readonly name: string;
  readonly role: ContestantRole;
  readonly enqueuePerSecond: number;
  readonly drainPerSecond: number;
  /** Jobs / (enqueue + drain wall time). */
  readonly totalPerSecond: number;
  /** This process's CPU per job, enqueue + drain, µs. */
  readonly clientCpuUsPerJob: number;
  /** The server's CPU per job, µs, when the bench can read it. */
  readonly serverCpuUsPerJob?: number;
  /** Median of the per-round ratios of end-to-end jobs/s to the baseline's. */
  readonly ratio: number;
  /** Median of the per-round ratios of client CPU per job to the baseline's (below 1: cheaper). */
  readonly cpuRatio: number;
  /** This process's CPU per job in the enqueue phase, µs. */
  readonly enqueueClientCpuUsPerJob: number;
  /** The server's CPU per job in the enqueue phase, µs, when the bench can read it. */
  readonly enqueueServerCpuUsPerJob?: number;
  /** This process's CPU per job in the drain phase, µs. */
  readonly drainClientCpuUsPerJob: number;
  /** The server's CPU per job in the drain phase, µs, when the bench can read it. */
  readonly drainServerCpuUsPerJob?: number;
  /** Share of the drain's wall time the client spent in GC (0–1), when measured. */
  readonly drainGcShare?: number;
  /** Median bytes the drain allocated on the client's heap per job (see `allocatedBytes`). */
  readonly drainAllocBytesPerJob?: number;
  /** Medians of the rounds' {@link RoundResult.extra} figures. */
  readonly extra: Readonly<Record<string, number>>;
  /** The rounds themselves, in round order (for ratios of other figures, per round). */
  readonly rounds: readonly RoundResult[];
  /**
   * The same summary of the rounds' {@link RoundResult.steady} (each process's last measured
   * round), when every round of every contestant has one; ratios to the baseline's steady rounds.
   */
  readonly steady?: ContestantSummary;
}

const perSecond = (jobs: number, ms: number): number => (ms > 0 ? (jobs * 1_000) / ms : 0);
const totalRate = (r: RoundResult): number => perSecond(r.jobs, r.enqueue.wallMs + r.drain.wallMs);
const clientCpu = (r: RoundResult): number => (r.enqueue.clientCpuUs + r.drain.clientCpuUs) / r.jobs;
function serverCpu(r: RoundResult): number | undefined {
  if (r.enqueue.serverCpuUs === undefined || r.drain.serverCpuUs === undefined) return undefined;
  return (r.enqueue.serverCpuUs + r.drain.serverCpuUs) / r.jobs;
}

/** The median of `f` over the rounds, or undefined unless every round has it. */
function medianOf(rs: readonly RoundResult[], f: (r: RoundResult) => number | undefined): number | undefined {
  const values = rs.map(f).filter((v): v is number => v !== undefined);
  return values.length === rs.length && rs.length > 0 ? median(values) : undefined;
}

/** The medians of each `extra` figure over the rounds that have it. */
function extras(rs: readonly RoundResult[]): Record<string, number> {
  const names = [...new Set(rs.flatMap((r) => Object.keys(r.extra ?? {})))];
  return Object.fromEntries(
    names.map((name) => [
      name,
      median(rs.map((r) => r.extra?.[name]).filter((v): v is number => v !== undefined && Number.isFinite(v))),
    ]),
  );
}

/**
 * The rounds' steady states by contestant, when every round of every contestant has one (else
 * undefined: a table of some would compare unlike states).
 */
function steadyResults(
  contestants: readonly Pick<Contestant, 'name'>[],
  results: Readonly<Record<string, readonly RoundResult[]>>,
): Record<string, RoundResult[]> | undefined {
  const steady: Record<string, RoundResult[]> = {};
  for (const { name } of contestants) {
    const rs = results[name] ?? [];
    const states = rs.map((r) => r.steady).filter((r): r is RoundResult => r !== undefined);
    if (rs.length === 0 || states.length !== rs.length) return undefined;
    steady[name] = states;
  }
  return steady;
}

/**
 * Summarises each contestant's rounds: medians, and medians of per-round ratios to `baseline`;
 * with `steady` the same of the rounds' steady states, when they all have one.
 */
export function summarise(
  contestants: readonly Pick<Contestant, 'name' | 'role'>[],
  results: Readonly<Record<string, readonly RoundResult[]>>,
  baseline: string,
): ContestantSummary[] {
  const base = results[baseline] ?? [];
  const steady = steadyResults(contestants, results);
  const steadySummaries = steady ? summarise(contestants, steady, baseline) : undefined;
  return contestants.map(({ name, role }, index) => {
    const steadySummary = steadySummaries?.[index];
    const rs = results[name] ?? [];
    const servers = rs.map(serverCpu).filter((v): v is number => v !== undefined);
    const enqueueServer = medianOf(rs, (r) => (r.enqueue.serverCpuUs === undefined ? undefined : r.enqueue.serverCpuUs / r.jobs));
    const drainServer = medianOf(rs, (r) => (r.drain.serverCpuUs === undefined ? undefined : r.drain.serverCpuUs / r.jobs));
    const gc = medianOf(rs, (r) =>
      r.drain.gcMs === undefined || r.drain.wallMs <= 0 ? undefined : r.drain.gcMs / r.drain.wallMs,
    );
    const alloc = medianOf(rs, (r) => (r.drain.allocatedBytes === undefined ? undefined : r.drain.allocatedBytes / r.jobs));
    return {
      name,
      role,
      enqueuePerSecond: median(rs.map((r) => perSecond(r.jobs, r.enqueue.wallMs))),
      drainPerSecond: median(rs.map((r) => perSecond(r.jobs, r.drain.wallMs))),
      totalPerSecond: median(rs.map(totalRate)),
      clientCpuUsPerJob: median(rs.map(clientCpu)),
      ...(servers.length === rs.length && rs.length > 0 ? { serverCpuUsPerJob: median(servers) } : {}),
      ratio: median(rs.map((r, i) => totalRate(r) / totalRate(base[i] ?? r))),
      cpuRatio: median(rs.map((r, i) => clientCpu(r) / clientCpu(base[i] ?? r))),
      enqueueClientCpuUsPerJob: median(rs.map((r) => r.enqueue.clientCpuUs / r.jobs)),
      ...(enqueueServer !== undefined ? { enqueueServerCpuUsPerJob: enqueueServer } : {}),
      drainClientCpuUsPerJob: median(rs.map((r) => r.drain.clientCpuUs / r.jobs)),
      ...(drainServer !== undefined ? { drainServerCpuUsPerJob: drainServer } : {}),
      ...(gc !== undefined ? { drainGcShare: gc } : {}),
      ...(alloc !== undefined ? { drainAllocBytesPerJob: alloc } : {}),
      extra: extras(rs),
      rounds: rs,
      ...(steadySummary ? { steady: steadySummary } : {}),
    };
  });
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
/** CPU µs per job: one decimal below 100 (the figures targets are stated in), else whole. */
const us = (n: number | undefined): string => (n === undefined ? 'n/a' : n < 100 ? n.toFixed(1) : int(n));
const figure = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : Math.abs(n) < 100 ? n.toFixed(1) : int(n);

/** Options of {@link benchTable}. */
export interface BenchTableOptions {
  /** CPU per job of each phase and the drain's GC share instead of the end-to-end CPU columns. */
  readonly phases?: boolean;
}

/**
 * The bench table: contestant, role, enqueue, drain, end-to-end jobs/s, CPU per job (end to
 * end, or per phase with `phases`), ratios to the baseline, then one column per `extra` figure.
 */
export function benchTable(summaries: readonly ContestantSummary[], options: BenchTableOptions = {}): string {
  const extraNames = [...new Set(summaries.flatMap((s) => Object.keys(s.extra ?? {})))];
  const extraCells = (s: ContestantSummary): string[] => extraNames.map((name) => figure(s.extra?.[name]));
  if (options.phases) {
    return formatTable(
      [
        'contestant',
        'role',
        'enq. jobs/s',
        'enq. µs/job cli+srv',
        'drain jobs/s',
        'drain cli µs/job',
        'drain srv µs/job',
        'GC %',
        'drain B/job alloc',
        'total jobs/s',
        '× base jobs/s',
        '× base CPU',
        ...extraNames,
      ],
      summaries.map((s) => [
        s.name,
        s.role,
        int(s.enqueuePerSecond),
        `${us(s.enqueueClientCpuUsPerJob)}+${us(s.enqueueServerCpuUsPerJob)}`,
        int(s.drainPerSecond),
        us(s.drainClientCpuUsPerJob),
        us(s.drainServerCpuUsPerJob),
        s.drainGcShare === undefined ? 'n/a' : (s.drainGcShare * 100).toFixed(0),
        s.drainAllocBytesPerJob === undefined ? 'n/a' : int(s.drainAllocBytesPerJob),
        int(s.totalPerSecond),
        s.ratio.toFixed(2),
        s.cpuRatio.toFixed(2),
        ...extraCells(s),
      ]),
    );
  }
  return formatTable(
    [
      'contestant',
      'role',
      'enqueue jobs/s',
      'drain jobs/s',
      'total jobs/s',
      'client CPU µs/job',
      'server CPU µs/job',
      '× base jobs/s',
      '× base CPU',
      ...extraNames,
    ],
    summaries.map((s) => [
      s.name,
      s.role,
      int(s.enqueuePerSecond),
      int(s.drainPerSecond),
      int(s.totalPerSecond),
      int(s.clientCpuUsPerJob),
      s.serverCpuUsPerJob === undefined ? 'n/a' : int(s.serverCpuUsPerJob),
      s.ratio.toFixed(2),
      s.cpuRatio.toFixed(2),
      ...extraCells(s),
    ]),
  );
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * Runs every contestant once per round in rotated order ({@link runRounds}), prints a line per
 * round and then the table ({@link benchTable}) with the load average before and after, and
 * returns the summaries. Contestants whose round is an {@link isolatedRound} run each round in
 * a fresh child process (after an un-counted warm-up round there); the rotation is the same.
 * When every round has a steady state (`isolatedRound`'s `measuredRounds` > 1) it prints two
 * tables, the cold one (each process's first measured round) and the steady-state one (its
 * last), and each summary carries its `steady` one.
 */
export async function runBench(options: RunBenchOptions): Promise<ContestantSummary[]> {
  const only = options.only ?? process.env.BENCH_ONLY?.split(',');
  const contestants = only
    ? options.contestants.filter((c) => only.includes(c.role) || (c.key !== undefined && only.includes(c.key)))
    : options.contestants;
  const baseline =
    (options.baseline !== undefined && contestants.some((c) => c.name === options.baseline) ? options.baseline : undefined) ??
    contestants.find((c) => c.role === 'raw')?.name ??
    contestants[0]?.name;
  if (baseline === undefined) throw new Error('runBench needs at least one contestant');
  console.log(options.title);
  console.log(`Node ${process.version}, load average ${load()} (1, 5, 15 min), ${options.rounds} rotated rounds`);
  const variants = Object.fromEntries(contestants.map((c) => [c.name, () => c.round()]));
  const results = await runRounds(options.rounds, variants, (round, r) =>
    console.log(
      `round ${round}: ${contestants
        .map((c) => {
          const result = r[c.name];
          if (!result) return '';
          const steady = result.steady ? ` (steady ${int(totalRate(result.steady))}, ${int(clientCpu(result.steady))})` : '';
          return `${c.name} ${int(totalRate(result))} jobs/s ${int(clientCpu(result))} µs/job${steady}`;
        })
        .join(' · ')}`,
    ),
  );
  const summaries = summarise(contestants, results, baseline);
  console.log(`\nmedians of ${options.rounds} rounds; base = "${baseline}"; ratios are medians of per-round ratios`);
  const phases = options.phases ?? false;
  const steady = summaries.map((s) => s.steady).filter((s): s is ContestantSummary => s !== undefined);
  if (steady.length === summaries.length && steady.length > 0) {
    console.log(options.coldTitle ?? "cold: each process's first measured round");
    console.log(benchTable(summaries, { phases }));
    console.log(`\n${options.steadyTitle ?? "steady state: each process's last measured round"}`);
    console.log(benchTable(steady, { phases }));
  } else {
    console.log(benchTable(summaries, { phases }));
  }
  console.log(`load average after: ${load()}`);
  return summaries;
}

/** Prints whether a contestant's ratio to the baseline meets a target, and returns it. */
export function reportTarget(summaries: readonly ContestantSummary[], name: string, minRatio: number, note = ''): boolean {
  const s = summaries.find((c) => c.name === name);
  const met = s !== undefined && s.ratio >= minRatio;
  console.log(
    `target: ${name} ≥ ${minRatio} × baseline jobs/s → ${s?.ratio.toFixed(2) ?? 'n/a'} ${met ? 'met' : 'NOT met'}${note ? ` (${note})` : ''}`,
  );
  return met;
}
