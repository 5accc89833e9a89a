import { isBgError } from '@bg/core';
import { describe, expect, it } from 'vitest';
import { MAX_DELIVERY_ATTEMPTS, PUBSUB_CAPABILITIES, pubsubAdapter } from '../src/index.js';

describe('maxDeliveryAttempts', () => {
  it('declares the dead-letter policy cap as capabilities.maxDeliveries (100 by default)', async () => {
    expect(PUBSUB_CAPABILITIES.maxDeliveries).toBe(MAX_DELIVERY_ATTEMPTS);
    const byDefault = pubsubAdapter({ apiEndpoint: '127.0.0.1:1', projectId: 'p' });
    const lowered = pubsubAdapter({ apiEndpoint: '127.0.0.1:1', projectId: 'p', maxDeliveryAttempts: 5 });
    expect(byDefault.capabilities).toEqual(PUBSUB_CAPABILITIES);
    expect(lowered.capabilities).toEqual({ ...PUBSUB_CAPABILITIES, maxDeliveries: 5 });
    await Promise.all([byDefault.close(), lowered.close()]);
  });

  it('is an integer between 5 and 100, else INVALID_ARGUMENT (not retryable)', () => {
    for (const bad of [4, 101, 2.5, Number.NaN]) {
      let error: unknown;
      try {
        pubsubAdapter({ apiEndpoint: '127.0.0.1:1', projectId: 'p', maxDeliveryAttempts: bad });
      } catch (caught) {
        error = caught;
      }
      expect(isBgError(error, 'INVALID_ARGUMENT'), `maxDeliveryAttempts ${bad}: ${String(error)}`).toBe(true);
      expect((error as { retryable: boolean }).retryable).toBe(false);
    }
  });
});
