import { UsageError } from './exit-codes.js';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration: a number of milliseconds (`1500`) or a number with a unit
 * (`500ms`, `30s`, `5m`, `2h`, `7d`), at most `maxMs`. Throws a {@link UsageError} naming `option`.
 */
export function parseDuration(text: string, option: string, maxMs: number = Number.POSITIVE_INFINITY): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${option}: "${text}" is not a duration (e.g. 1500, 30s, 5m, 2h, 7d)`);
  const value = Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1);
  if (!Number.isFinite(value)) throw new UsageError(`${option}: "${text}" is too large`);
  if (Math.round(value) > maxMs) {
    throw new UsageError(`${option}: "${text}" is too long (at most ${maxMs} ms)`);
  }
  return Math.round(value);
}

/** A short human form of a duration in ms: `850ms`, `12s`, `5m`, `3h`, `2d`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)}ms`;
  if (abs < 60_000) return `${Math.round(ms / 1_000)}s`;
  if (abs < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (abs < 86_400_000) return `${Math.round(ms / 3_600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}
