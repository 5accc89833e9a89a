import { describe, expect, it } from 'vitest';
import { BgError, isBgError, permanentError } from '../src/index.js';

describe('BgError', () => {
  it('carries a stable code, retryable default and a docs hint', () => {
    const e = new BgError('UNREACHABLE', 'redis is down');
    expect(e.code).toBe('UNREACHABLE');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('redis is down');
    expect(e.message).toContain('errors#unreachable');
    expect(new BgError('INVALID_PAYLOAD', 'x').retryable).toBe(false);
    expect(new BgError('BACKEND_ERROR', 'x', { retryable: false }).retryable).toBe(false);
    expect(e).toBeInstanceOf(Error);
  });

  it('is recognised across duplicate installs of @bg/core', async () => {
    // A second module instance of the built package, as a duplicate install would load.
    const copy = new URL(`../dist/errors.js?copy=${Date.now()}`, import.meta.url).href;
    const other = (await import(/* @vite-ignore */ copy)) as typeof import('../src/errors.js');
    const foreign = new other.BgError('LEASE_LOST', 'stale');
    expect(foreign instanceof BgError).toBe(false);
    expect(isBgError(foreign)).toBe(true);
    expect(isBgError(foreign, 'LEASE_LOST')).toBe(true);
    expect(isBgError(foreign, 'CLOSED')).toBe(false);
  });

  it('does not mistake other errors', () => {
    expect(isBgError(new Error('x'))).toBe(false);
    expect(isBgError({ code: 'LEASE_LOST' })).toBe(false);
    expect(isBgError(null)).toBe(false);
  });

  it('permanentError is a non-retryable PERMANENT_FAILURE with its cause', () => {
    const cause = new Error('404');
    const e = permanentError('no such user', cause);
    expect(e.code).toBe('PERMANENT_FAILURE');
    expect(e.retryable).toBe(false);
    expect(e.cause).toBe(cause);
  });
});
