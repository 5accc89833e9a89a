import { connect } from '@bg/core';
import { optionsFromUrl } from '@bg/sqs';
import { describe, expect, it } from 'vitest';
import { endpoint, skipReason } from './backend.js';

describe('sqs:// URLs', () => {
  it('parse region, endpoint, credentials and options', () => {
    expect(optionsFromUrl(new URL('sqs://eu-west-1?prefix=staging-&fifo=true&redriveMaxReceiveCount=50'))).toEqual({
      region: 'eu-west-1',
      queueNamePrefix: 'staging-',
      fifo: true,
      redriveMaxReceiveCount: 50,
    });
    expect(optionsFromUrl(new URL('sqs://AK:SK@us-east-1?endpoint=http://127.0.0.1:9324'))).toEqual({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9324',
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
    });
    expect(() => optionsFromUrl(new URL('sqs://x?maxMessageBytes=abc'))).toThrow(/"maxMessageBytes" must be an integer/);
  });

  it.skipIf(skipReason !== undefined)('connect() builds a working adapter from the URL', async () => {
    const adapter = await connect(`sqs://?endpoint=${encodeURIComponent(endpoint())}`);
    try {
      await adapter.ensureQueue('url-queue');
      await adapter.send('url-queue', [{ id: 'u1', body: 'hi' }]);
      const got = await adapter.receive('url-queue', { max: 1, leaseMs: 5_000, waitMs: 1_000 });
      expect(got.map((m) => m.body)).toEqual(['hi']);
      await adapter.ack('url-queue', got[0]?.handle as string);
    } finally {
      await adapter.close();
    }
  });
});
