/**
 * One-line warnings, printed once per process and switchable off.
 * @module
 */

/** Environment variable that turns every bg warning off (`BG_NO_WARNINGS=1`). */
export const NO_WARNINGS_ENV = 'BG_NO_WARNINGS';

/** Where a warning goes; replaced with {@link setWarningSink}. */
export type WarningSink = (line: string) => void;

interface WarningState {
  readonly seen: Set<string>;
  sink: WarningSink | undefined;
}

// Shared through globalThis so two installed copies of @bg/core still warn once.
const STATE_KEY = Symbol.for('bg.warnings');

function state(): WarningState {
  const holder = globalThis as unknown as Record<symbol, WarningState | undefined>;
  let s = holder[STATE_KEY];
  if (!s) {
    s = { seen: new Set(), sink: undefined };
    holder[STATE_KEY] = s;
  }
  return s;
}

/** Whether `value` of {@link NO_WARNINGS_ENV} turns warnings off (anything but empty, `0` or `false`). */
export function warningsDisabled(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

/** Makes the one line printed for a warning: `bg warning: <message>`, on one line. */
export function formatWarning(message: string): string {
  return `bg warning: ${message.replace(/\s*\n\s*/g, ' ').trim()}`;
}

/**
 * Prints `message` as one line on stderr (`bg warning: …`), once per process per `key`.
 * Nothing is printed when `BG_NO_WARNINGS` is set (to anything but `0`/`false`), and a sink
 * set with {@link setWarningSink} receives the line instead of stderr. Never throws.
 *
 * @example
 * ```ts
 * warnOnce('redis:persistence', '@bg/redis: persistence is off: a Redis restart loses every queued job')
 * ```
 */
export function warnOnce(key: string, message: string): void {
  const s = state();
  if (s.seen.has(key)) return;
  s.seen.add(key);
  if (warningsDisabled(process.env[NO_WARNINGS_ENV])) return;
  const line = formatWarning(message);
  try {
    if (s.sink) s.sink(line);
    else process.stderr.write(`${line}\n`);
  } catch {
    // A warning must never break the caller.
  }
}

/**
 * Sends bg warnings to `sink` (e.g. your logger) instead of stderr; `() => {}` silences them,
 * `undefined` restores stderr. Returns the previous sink.
 */
export function setWarningSink(sink: WarningSink | undefined): WarningSink | undefined {
  const s = state();
  const previous = s.sink;
  s.sink = sink;
  return previous;
}
