/** Minimal step-by-step console output for the demo (colours only on a terminal). */
const tty = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: string) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);

/** Bold text. */
export const bold = paint('1');
/** Dimmed text. */
export const dim = paint('2');
/** Green text. */
export const green = paint('32');
/** Red text. */
export const red = paint('31');
/** Yellow text. */
export const yellow = paint('33');

/** Prints one line. */
export function say(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Prints a step header with the time since `startedAt`. */
export function step(n: number | string, title: string, startedAt: number): void {
  say();
  say(`${bold(`[${n}] ${title}`)} ${dim(`+${((Date.now() - startedAt) / 1000).toFixed(1)} s`)}`);
}

/** Prints a passed (✔) or failed (✘) check. */
export function verdict(ok: boolean, text: string): void {
  say(`    ${ok ? green('✔') : red('✘')} ${text}`);
}

/** Prints an indented detail line. */
export function detail(text: string): void {
  say(`    ${text}`);
}
