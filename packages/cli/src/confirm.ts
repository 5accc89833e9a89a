import type { CommandContext } from './context.js';
import { CliFailure, EXIT } from './exit-codes.js';

/**
 * Goes on when `yes` (`--yes`) or the user answers yes on the terminal; otherwise throws a
 * {@link CliFailure} with {@link EXIT.NOT_CONFIRMED} (also without a terminal to ask on).
 */
export async function confirmOrRefuse(ctx: CommandContext, question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!ctx.io.stdinIsTty) {
    throw new CliFailure(EXIT.NOT_CONFIRMED, `${question} — not confirmed: no terminal to ask on; pass --yes`);
  }
  if (!(await ctx.io.confirm(question))) throw new CliFailure(EXIT.NOT_CONFIRMED, 'not confirmed; nothing changed');
}
