import { isBgError } from '@bg/core';
import { adapterPackageNames, extractAdapterOptions } from './adapter-packages.js';
import { useAdapterPackages } from './backend.js';
import { dashboardCommand } from './commands/dashboard.js';
import { deadCommand } from './commands/dead.js';
import { enqueueCommand } from './commands/enqueue.js';
import { moveCommand } from './commands/move.js';
import { queueCommand } from './commands/queue.js';
import { schemaCommand } from './commands/schema.js';
import { statsCommand } from './commands/stats.js';
import type { Command } from './context.js';
import { CliFailure, EXIT, type ExitCode, UsageError } from './exit-codes.js';
import { HELP } from './help.js';
import type { CliIo } from './io.js';
import { scrubbingIo, secretsIn } from './secrets.js';

const COMMANDS: Readonly<Record<string, Command>> = {
  stats: statsCommand,
  queue: queueCommand,
  dead: deadCommand,
  move: moveCommand,
  enqueue: enqueueCommand,
  schema: schemaCommand,
  dashboard: dashboardCommand,
};

/** Options of {@link runCli}. */
export interface RunCliOptions {
  readonly io: CliIo;
  /** Aborting stops long commands at a safe point (exit code 130). */
  readonly signal?: AbortSignal;
}

/**
 * Runs the `bgctl` command line in-process and resolves with its exit code (see {@link EXIT}).
 * Never throws: errors are printed on `io.err`.
 *
 * @example
 * ```ts
 * const code = await runCli(['stats', 'redis://127.0.0.1:6379', '--json'], { io: processIo() })
 * ```
 */
export async function runCli(argv: readonly string[], options: RunCliOptions): Promise<ExitCode> {
  const io = scrubbingIo(options.io, secretsIn(argv, options.io.env));
  const signal = options.signal ?? new AbortController().signal;
  // `--adapter <package>` may stand anywhere (before or after the command); with
  // $BGCTL_ADAPTERS it names third-party adapter packages, loaded when a backend is opened.
  let args: readonly string[];
  try {
    const extracted = extractAdapterOptions(argv);
    useAdapterPackages(adapterPackageNames(extracted.names, io.env), io.cwd);
    args = extracted.rest;
  } catch (error) {
    io.err(`bgctl: ${error instanceof Error ? error.message : String(error)}\nRun \`bgctl --help\` for usage.\n`);
    return EXIT.USAGE;
  }
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    io.out((topic && HELP[topic]) || HELP.main || '');
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    io.out('bgctl 0.1.0\n');
    return EXIT.OK;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return await command(rest, { io, signal });
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`bgctl: ${error.message}\nRun \`bgctl ${command ? `${name} ` : ''}--help\` for usage.\n`);
      return EXIT.USAGE;
    }
    if (error instanceof CliFailure) {
      io.err(`bgctl: ${error.message}\n`);
      return error.exitCode;
    }
    if (isBgError(error)) {
      io.err(`bgctl: ${error.code}: ${error.message}\n`);
      if (error.code === 'INVALID_ARGUMENT') return EXIT.USAGE;
      return EXIT.FAILURE;
    }
    io.err(`bgctl: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.FAILURE;
  }
}
