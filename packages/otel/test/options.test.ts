import { isBgError } from '@bg/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { instrument, type OtelOptions } from '../src/index.js';

const provider = new BasicTracerProvider();

describe('instrument() options', () => {
  it.each([
    ['backlogIntervalMs NaN (the backlog gauge never sampled)', { backlogIntervalMs: Number.NaN }],
    ["backlogIntervalMs '15s'", { backlogIntervalMs: '15s' }],
    ['backlogIntervalMs -1', { backlogIntervalMs: -1 }],
    ['a tracer given as tracerProvider (no spans, silently)', { tracerProvider: provider.getTracer('app') }],
    ['a meterProvider without getMeter (a TypeError at createQueue)', { meterProvider: {} }],
    ['a misspelt option name', { processparent: 'link' }],
    ['options null (a TypeError)', null],
    ["processParent 'sibling' (a TypeError)", { processParent: 'sibling' }],
  ])('refuses %s with INVALID_ARGUMENT', (why, options) => {
    let thrown: unknown;
    try {
      instrument(options as OtelOptions);
    } catch (error) {
      thrown = error;
    }
    expect(isBgError(thrown, 'INVALID_ARGUMENT'), `instrument() given ${why} threw ${String(thrown)}`).toBe(true);
  });

  it('takes every valid option', () => {
    const otel = instrument({ tracerProvider: provider, processParent: 'link', backlogIntervalMs: 0 });
    expect(otel.recording, 'instrument() with a tracer provider records').toBe(true);
  });
});
