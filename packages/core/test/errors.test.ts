import { describe, expect, it } from 'vitest';
import { BgError, isBgError, permanentError } from '../src/index.js';

describe('BgError', () => {
  it('carries a stable code and retryable default; the message is the plain sentence, without links', () => {
    const e = new BgError('UNREACHABLE', 'redis is down');
    expect(e.code).toBe('UNREACHABLE');
    expect(e.retryable).toBe(true);
    expect(e.message, 'message is the sentence as given').toBe('redis is down');
    expect(String(e), 'String(err) carries the code readably').toBe('BgError [UNREACHABLE]: redis is down');
    expect(e.stack?.split('\n')[0], 'the stack header carries the code').toBe('BgError [UNREACHABLE]: redis is down');
    expect(`${e.message}${e.stack}`, 'no link to a site the project does not run').not.toMatch(/https?:/);
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
