/** First pause after a receive that came back empty at once, ms. */
const FIRST_PAUSE_MS = 5;

/**
 * True when an empty receive came back "at once": before half of its long poll passed, or
 * whenever the worker does not long-poll (`waitMs` 0). Such a backend (or an adapter that
 * answers from memory) must not be asked again in the same turn of the event loop.
 */
export function answeredAtOnce(elapsedMs: number, waitMs: number): boolean {
  return waitMs <= 0 || elapsedMs < waitMs / 2;
}

/**
 * The pause before the next receive after `streak` (≥ 1) empty receives in a row that came
 * back at once: 5 ms doubling up to `waitMs` clamped to 250 ms–1 s, times a jitter factor
 * of 0.5–1 from `random` (a number in [0, 1)).
 */
export function emptyPollPause(streak: number, waitMs: number, random: number): number {
  const cap = Math.min(Math.max(waitMs, 250), 1_000);
  const pause = Math.min(FIRST_PAUSE_MS * 2 ** Math.min(Math.max(streak, 1) - 1, 16), cap);
  return pause * (0.5 + random / 2);
}
