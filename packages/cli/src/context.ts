import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { printableJson } from './printable.js';

/** What a command gets besides its arguments. */
export interface CommandContext {
  readonly io: CliIo;
  /** Aborted on SIGINT/SIGTERM: long commands stop at a safe point. */
  readonly signal: AbortSignal;
  /**
   * Writes a value as JSON on stdout, scrubbed field by field (see `scrubValue`); when absent,
   * {@link printJson} writes through `io.out`.
   */
  readonly json?: (value: unknown) => void;
  /** Writes static help text unscrubbed (its URL templates look like credentials); when absent, `io`. */
  readonly help?: (text: string, stream: 'out' | 'err') => void;
}

/** A `bgctl` sub-command: its arguments after the command name → an exit code. */
export type Command = (argv: readonly string[], ctx: CommandContext) => Promise<ExitCode>;

/** Writes a command's help: on stdout when asked for, on stderr with a usage error. */
export function printHelp(ctx: CommandContext, text: string | undefined, stream: 'out' | 'err' = 'out'): void {
  if (ctx.help) ctx.help(text ?? '', stream);
  else ctx.io[stream](text ?? '');
}

/** Writes a value as pretty JSON on stdout. */
export function printJson(ctx: CommandContext, value: unknown): void {
  if (ctx.json) ctx.json(value);
  else ctx.io.out(`${printableJson(JSON.stringify(value, null, 2))}\n`);
}
