import { isBgError } from '@bg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { pubsubAdapter } from '../src/index.js';

/** Lets every pending rejection reach `unhandledRejection` (Node reports them once the microtasks ran). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('credentials that cannot be loaded', () => {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    seen.push(reason);
  };
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('fail the calls, and leave no unhandled rejection behind (it ended the process)', async () => {
    process.on('unhandledRejection', onUnhandled);
    // Application Default Credentials naming a key file that does not exist: the Google client
    // fails to build its stub, before any network (this file runs in a worker of its own).
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/bg-audit/key.json';
    const adapter = pubsubAdapter({ projectId: 'p' });
    try {
      for (const [call, run] of [
        ['queueExists', () => adapter.queueExists?.('no-credentials')],
        ['ensureQueue', () => adapter.ensureQueue('no-credentials')],
      ] as const) {
        const error = await Promise.resolve(run()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isBgError(error), `${call} without loadable credentials rejects with a BgError: ${String(error)}`).toBe(true);
        // A configuration error: retrying cannot help (a worker would retry it for ever).
        expect(
          { code: (error as { code?: unknown }).code, retryable: (error as { retryable?: unknown }).retryable },
          `${call} without loadable credentials: ${String(error)}`,
        ).toEqual({ code: 'AUTH_FAILED', retryable: false });
      }
      await turns(5);
      expect(
        seen.map((reason) => String(reason).slice(0, 120)),
        'unhandled rejections left by the Google client after two failed calls (each one ends a Node process)',
      ).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
      await adapter.close();
    }
  });
});
