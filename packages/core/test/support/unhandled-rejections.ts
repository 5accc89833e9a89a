import { afterEach, beforeEach } from 'vitest';

/**
 * Collects the unhandled rejections raised while each test of the calling file runs (the list is
 * emptied before each test): a test asserts that it stays empty.
 */
export function collectUnhandledRejections(): unknown[] {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  return unhandled;
}
