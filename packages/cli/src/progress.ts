import type { CliIo } from './io.js';

/** A progress indicator for long runs; drawn on stderr only when it is a terminal. */
export interface Progress {
  /** Sets the number of items done (and optionally a new total). */
  update(done: number, total?: number): void;
  /** Clears the bar line. */
  done(): void;
}

/**
 * A one-line ANSI progress bar on stderr (`label [#####.....] 42/100`), redrawn at most
 * every 100 ms. A no-op when stderr is not a TTY, so pipes and CI logs stay clean.
 */
export function progressBar(io: CliIo, label: string, total?: number): Progress {
  if (!io.stderrIsTty) return { update() {}, done() {} };
  let max = total;
  let lastDraw = 0;
  let count = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const width = 30;
    if (max && max > 0) {
      const filled = Math.min(width, Math.round((count / max) * width));
      io.err(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${max}`);
    } else {
      io.err(`\r\x1b[2K${label} ${count}`);
    }
  };
  return {
    update(done, newTotal) {
      count = done;
      if (newTotal !== undefined) max = newTotal;
      if (max !== undefined && count > max) max = count;
      draw(false);
    },
    done() {
      draw(true);
      io.err('\r\x1b[2K');
    },
  };
}
