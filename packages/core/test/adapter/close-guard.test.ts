import { describe, expect, it } from 'vitest';
import { CloseGuard, isBgError } from '../../src/adapter/index.js';

describe('CloseGuard', () => {
  it('aborts its signal at the first close() only, and refuses calls after it', () => {
    const guard = new CloseGuard('demo');
    let aborts = 0;
    guard.signal.addEventListener('abort', () => aborts++);
    expect(guard.signal.aborted, 'signal before close()').toBe(false);
    expect(guard.close(), 'first close() returns true').toBe(true);
    expect(guard.signal.aborted, 'signal after close()').toBe(true);
    expect(guard.close(), 'second close() returns false').toBe(false);
    expect(aborts, 'abort listeners run once').toBe(1);
    let error: unknown;
    try {
      guard.assertOpen();
    } catch (e) {
      error = e;
    }
    expect(isBgError(error, 'CLOSED'), `assertOpen() after close() threw ${String(error)}`).toBe(true);
  });

  it('withClose(caller) aborts on the caller’s signal or on close(), whichever comes first', () => {
    const guard = new CloseGuard('demo');
    expect(guard.withClose(undefined), 'without a caller signal: the close signal itself').toBe(guard.signal);

    const caller = new AbortController();
    const joined = guard.withClose(caller.signal);
    caller.abort(new Error('caller gave up'));
    expect(joined.aborted, 'aborted by the caller').toBe(true);
    expect(guard.signal.aborted, 'the caller does not close the adapter').toBe(false);

    const other = new AbortController();
    const byClose = guard.withClose(other.signal);
    guard.close();
    expect(byClose.aborted, 'aborted by close()').toBe(true);
    expect(other.signal.aborted, 'close() does not abort the caller’s own signal').toBe(false);
    expect(guard.withClose(new AbortController().signal).aborted, 'joined after close(): already aborted').toBe(true);
  });
});
