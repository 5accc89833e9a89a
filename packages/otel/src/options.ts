import { BgError } from '@bg/core';
import type { OtelOptions } from './instrument.js';

const NAMES: readonly string[] = ['tracerProvider', 'meterProvider', 'processParent', 'backlogIntervalMs'];

/** A short description of a value for an error message (never a long value in full). */
function describe(value: unknown): string {
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (typeof value !== 'object' && typeof value !== 'function') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'function' ? 'a function' : 'an object';
}

function invalid(message: string): BgError {
  return new BgError('INVALID_ARGUMENT', `instrument(): ${message}`, { retryable: false });
}

/** True when `value` is an object with a method `method`. */
function hasMethod(value: unknown, method: string): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as Record<string, unknown>)[method] === 'function'
  );
}

/**
 * The options of `instrument()`, checked: a wrong one would otherwise record nothing, silently (a
 * tracer given as `tracerProvider`, a `backlogIntervalMs` of `NaN` or `'15s'`, a misspelt name).
 * Anything wrong is `INVALID_ARGUMENT` (not retryable) naming the option.
 */
export function checkOptions(options: unknown): OtelOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(`options must be an object, got ${describe(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (given[name] !== undefined && !NAMES.includes(name)) {
      throw invalid(`unknown option ${JSON.stringify(name)} (${NAMES.join(', ')})`);
    }
  }
  const { tracerProvider, meterProvider, processParent, backlogIntervalMs } = given;
  if (tracerProvider !== undefined && !hasMethod(tracerProvider, 'getTracer')) {
    throw invalid(`tracerProvider must be a TracerProvider (with getTracer), got ${describe(tracerProvider)}`);
  }
  if (meterProvider !== undefined && !hasMethod(meterProvider, 'getMeter')) {
    throw invalid(`meterProvider must be a MeterProvider (with getMeter), got ${describe(meterProvider)}`);
  }
  if (processParent !== undefined && processParent !== 'child' && processParent !== 'link') {
    throw invalid(`processParent must be 'child' or 'link', got ${describe(processParent)}`);
  }
  if (
    backlogIntervalMs !== undefined &&
    backlogIntervalMs !== false &&
    (typeof backlogIntervalMs !== 'number' || !Number.isFinite(backlogIntervalMs) || backlogIntervalMs < 0)
  ) {
    throw invalid(`backlogIntervalMs must be a number of milliseconds ≥ 0 or false, got ${describe(backlogIntervalMs)}`);
  }
  return given as OtelOptions;
}
