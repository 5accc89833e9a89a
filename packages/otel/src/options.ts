import { BgError } from '@bg/core';
import { checkOptionNames, describeValue as describe } from '@bg/core/adapter';
import type { OtelOptions } from './instrument.js';

const NAMES: ReadonlySet<string> = new Set(['tracerProvider', 'meterProvider', 'processParent', 'backlogIntervalMs']);

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
  checkOptionNames('instrument()', given, NAMES);
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
