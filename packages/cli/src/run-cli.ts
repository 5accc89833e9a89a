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
import { CliFailure, EXIT, type ExitCode, exitCodeOf, UsageError } from './exit-codes.js';
import { HELP } from './help.js';
import type { CliIo } from './io.js';
import { printable, printableJson, quoted } from './printable.js';
import { scrubbingIo, scrubValue, secretsIn } from './secrets.js';
import { cliVersion } from './version.js';

const COMMANDS: Readonly<Record<string, Command>> = {
  stats: statsCommand,
  queue: queueCommand,
  dead: deadCommand,
  move: moveCommand,
  enqueue: enqueueCommand,
  schema: schemaCommand,
  dashboard: dashboardCommand,
};

/**
 * Whether the command `argv` runs stops at a safe point when its signal aborts (a move, a
 * dead-letter replay or purge, the dashboard): a first Ctrl-C or SIGTERM lets it finish the batch
 * in hand. Every other command has nothing to finish and may end at once.
 */
export function stopsGracefully(argv: readonly string[]): boolean {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const name = words[0];
  return name === 'move' || name === 'dashboard' || (name === 'dead' && (words.includes('replay') || words.includes('purge')));
}

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
  const secrets = secretsIn(argv, options.io.env);
  const io = scrubbingIo(options.io, secrets);
  const signal = options.signal ?? new AbortController().signal;
  // --json output is scrubbed field by field, so that it stays JSON (see scrubValue).
  // DEL, C1, bidi and line-separator characters in job data are written as \u escapes (the same
  // JSON value), so that `--json` read on a terminal cannot drive it either.
  const json = (value: unknown): void =>
    options.io.out(`${printableJson(JSON.stringify(scrubValue(value, secrets), null, 2))}\n`);
  const jsonErrors = argv.includes('--json');
  /** Prints a failure on stderr: one line of text, or with --json one JSON object. */
  const fail = (code: ExitCode, message: string, errorCode?: string): ExitCode => {
    if (jsonErrors) {
      const error = scrubValue({ code: errorCode ?? null, message, exitCode: code }, secrets);
      options.io.err(`${printableJson(JSON.stringify({ error }))}\n`);
    } else {
      io.err(`bgctl: ${errorCode ? `${errorCode}: ` : ''}${printable(message)}\n`);
    }
    return code;
  };
  // `--adapter <package>` may stand anywhere (before or after the command); with
  // $BGCTL_ADAPTERS it names third-party adapter packages, loaded when a backend is opened.
  let args: readonly string[];
  try {
    const extracted = extractAdapterOptions(argv);
    useAdapterPackages(adapterPackageNames(extracted.names, io.env), io.cwd);
    args = extracted.rest;
  } catch (error) {
    return fail(EXIT.USAGE, `${error instanceof Error ? error.message : String(error)}\nRun \`bgctl --help\` for usage.`);
  }
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    // Own keys only: `help constructor` read Object's and printed its source (or crashed the bin).
    if (topic !== undefined && !(Object.hasOwn(COMMANDS, topic) && Object.hasOwn(HELP, topic))) {
      return fail(
        EXIT.USAGE,
        `no help on ${quoted(topic, 40)}: it is not a command; commands: ${Object.keys(COMMANDS).join(', ')}\nRun \`bgctl --help\` for usage.`,
      );
    }
    // Static text, not scrubbed (its URL templates look like credentials); on a usage error, on stderr.
    const text = (topic !== undefined ? HELP[topic] : HELP.main) ?? '';
    if (name === undefined) {
      options.io.err(text);
      return EXIT.USAGE;
    }
    options.io.out(text);
    return EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    io.out(`bgctl ${cliVersion()}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return await command(rest, { io, signal, json, help: (text, stream) => options.io[stream](text) });
  } catch (error) {
    if (error instanceof UsageError) {
      return fail(EXIT.USAGE, `${error.message}\nRun \`bgctl ${command ? `${name} ` : ''}--help\` for usage.`);
    }
    if (error instanceof CliFailure) return fail(error.exitCode, error.message);
    if (isBgError(error)) {
      return fail(exitCodeOf(error.code), error.message, error.code);
    }
    // A file or module error (EISDIR, ERR_MODULE_NOT_FOUND …): its message and code, no stack.
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : String(error);
    return fail(EXIT.FAILURE, message, typeof code === 'string' ? code : undefined);
  }
}
