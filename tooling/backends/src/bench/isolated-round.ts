import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RoundResult } from './round-result.js';

/** The line prefix a child writes its {@link RoundResult} after (one JSON line). */
export const ROUND_RESULT_PREFIX = '@bg-bench-round ';

/** The environment variable that carries an {@link IsolatedRoundSpec} to the child. */
export const ROUND_SPEC_ENV = 'BG_BENCH_ROUND';

/** What the child gets from {@link isolatedRound}: JSON-safe values only. */
export interface IsolatedRoundSpec {
  /** A `file:` URL (or specifier) of the module exporting the round. */
  readonly module: string;
  /** The round's export name. */
  readonly export: string;
  /** What the measured round is called with. */
  readonly args: unknown;
  /** What the warm-up round is called with. */
  readonly warmupArgs: unknown;
  /** A name for profile files. */
  readonly label: string;
  /** Measured rounds run back to back after the warm-up (1 or more). */
  readonly measuredRounds: number;
}

/** What an isolated round function gets besides its arguments. */
export interface IsolatedRoundContext {
  /** True for the child's un-counted warm-up round (print nothing, profile nothing). */
  readonly warmup: boolean;
  /** Which measured round of this process this is (1 for the first; 0 in the warm-up). */
  readonly measuredRound?: number;
}

/**
 * A round a child process runs: exported by a module, called with JSON arguments (the server's
 * URL, the shape of the round); it connects to the server itself and returns its
 * {@link RoundResult} (measured with `measure`, the server's CPU read as in-process rounds do).
 */
export type IsolatedRoundFn<A> = (args: A, context: IsolatedRoundContext) => Promise<RoundResult>;

/** Options of {@link isolatedRound}. */
export interface IsolatedRoundOptions<A> {
  /** The module exporting the round: `new URL('./rounds.ts', import.meta.url)` or its `href`. */
  readonly module: URL | string;
  /** The name of its export, an {@link IsolatedRoundFn} (default `round`). */
  readonly export?: string;
  /** The measured round's arguments (JSON: the server's URL, jobs, concurrency, …). */
  readonly args: A;
  /** The warm-up round's arguments (default `args`): fewer jobs make a small warm-up. */
  readonly warmupArgs?: A;
  /** Extra environment for the child (it inherits this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** A name for the child's profile file (`BENCH_PROFILE`); default the export's name. */
  readonly label?: string;
  /**
   * Measured rounds the child runs back to back after the warm-up, each on fresh keys (default
   * 1). With more than one, the result is the first (the cold end) with the last as its
   * `steady` (JIT tiered up, heap sized); the rounds between only bring the process there.
   */
  readonly measuredRounds?: number;
}

/** Node flags the child must not inherit (a second debugger would fight for the port). */
const NOT_INHERITED = /^--(inspect|debug)/;

/**
 * Runs one round of a contestant in a fresh child Node process, so that it pays for its own
 * heap, GC and JIT warm-up only, not for what contestants before it left in this process.
 * The child is this Node binary with this process's flags (`--import tsx` when the bench runs
 * under tsx) and `--expose-gc` (each measured phase starts on a collected heap); it imports `module`, runs `export(warmupArgs, { warmup: true })` once, un-counted,
 * then `export(args, { warmup: false })` (`measuredRounds` times, default once), and writes each
 * measured round's {@link RoundResult} as one JSON line on stdout (its other output is passed
 * through); the first comes back, with the last as its `steady` when there were several. With
 * `BENCH_PROFILE=<dir>` the child writes a V8 CPU profile of each measured round there
 * (`<label>-<pid>-<round>.cpuprofile`).
 * Use it as a {@link Contestant}'s round: `runBench` rotates the order per round as usual.
 * `BENCH_ISOLATE=0` runs the round in this process instead, without the warm-up (as benches ran
 * before), to measure what isolation changes.
 */
export async function isolatedRound<A>(options: IsolatedRoundOptions<A>): Promise<RoundResult> {
  const spec: IsolatedRoundSpec = {
    module: options.module instanceof URL ? options.module.href : options.module,
    export: options.export ?? 'round',
    args: options.args,
    warmupArgs: options.warmupArgs ?? options.args,
    label: options.label ?? options.export ?? 'round',
    measuredRounds: Math.max(1, Math.floor(options.measuredRounds ?? 1)),
  };
  if (process.env.BENCH_ISOLATE === '0') {
    // The A/B of isolation itself: the same round in this process, no warm-up (as benches ran before).
    const loaded = (await import(spec.module)) as Record<string, IsolatedRoundFn<A> | undefined>;
    const round = loaded[spec.export];
    if (typeof round !== 'function') throw new Error(`${spec.module} exports no function ${spec.export}`);
    const results: RoundResult[] = [];
    for (let k = 1; k <= spec.measuredRounds; k++) results.push(await round(options.args, { warmup: false, measuredRound: k }));
    return coldAndSteady(results, spec.label);
  }
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv.filter((flag) => !NOT_INHERITED.test(flag)),
      '--expose-gc',
      fileURLToPath(new URL('./isolated-child.js', import.meta.url)),
    ],
    {
      env: { ...process.env, ...options.env, [ROUND_SPEC_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const results: RoundResult[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line.startsWith(ROUND_RESULT_PREFIX)) results.push(JSON.parse(line.slice(ROUND_RESULT_PREFIX.length)) as RoundResult);
    else console.log(line);
  });
  const closed = new Promise<void>((resolve) => lines.once('close', () => resolve()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  await closed;
  if (code !== 0 || results.length !== spec.measuredRounds) {
    throw new Error(
      `isolated round ${spec.label} (${spec.module}) failed: exit code ${code}, ${results.length} of ${spec.measuredRounds} results`,
    );
  }
  return coldAndSteady(results, spec.label);
}

/** The first of a process's measured rounds, with the last as its `steady` when there were several. */
function coldAndSteady(results: readonly RoundResult[], label: string): RoundResult {
  const [first] = results;
  const last = results.at(-1);
  if (first === undefined || last === undefined) throw new Error(`isolated round ${label}: no measured round`);
  return results.length > 1 ? { ...first, steady: last } : first;
}
