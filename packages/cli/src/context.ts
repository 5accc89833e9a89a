import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';

/** What a command gets besides its arguments. */
export interface CommandContext {
  readonly io: CliIo;
  /** Aborted on SIGINT/SIGTERM: long commands stop at a safe point. */
  readonly signal: AbortSignal;
}

/** A `bgctl` sub-command: its arguments after the command name → an exit code. */
export type Command = (argv: readonly string[], ctx: CommandContext) => Promise<ExitCode>;

/** Writes a value as pretty JSON on stdout. */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}
