import { type BgError, isBgError } from '@bg/core';
import { describe, expect, it } from 'vitest';
import { type PubSubAdapterOptions, pubsubAdapter } from '../src/index.js';

const SECRET = 'Tok3nInEndpoint';

/** What `pubsubAdapter(options)` threw (fails when it built an adapter). */
function constructionError(label: string, options: unknown): BgError {
  try {
    const adapter = pubsubAdapter(options as PubSubAdapterOptions);
    void adapter.close();
  } catch (error) {
    if (isBgError(error)) return error;
    throw new Error(`pubsubAdapter(${label}) threw a non-BgError: ${String(error)}`);
  }
  throw new Error(`pubsubAdapter(${label}) built an adapter: the value reached the Google client unchecked`);
}

describe('what pubsubAdapter hands to the Google client is checked at construction', () => {
  const base = { projectId: 'p', apiEndpoint: '127.0.0.1:8085' };
  const cases: readonly [string, string, Record<string, unknown>][] = [
    ['endpoint (a typo of apiEndpoint: went to the real service)', 'endpoint', { projectId: 'p', endpoint: '127.0.0.1:8085' }],
    ['apiEndpoint 123 (a TypeError)', 'apiEndpoint', { ...base, apiEndpoint: 123 }],
    ["apiEndpoint '' (meant the real service)", 'apiEndpoint', { ...base, apiEndpoint: '' }],
    [
      "apiEndpoint '127.0.0.1:abc' (a retryable UNREACHABLE on every call)",
      'apiEndpoint',
      { ...base, apiEndpoint: '127.0.0.1:abc' },
    ],
    ["apiEndpoint '127.0.0.1:99999'", 'apiEndpoint', { ...base, apiEndpoint: '127.0.0.1:99999' }],
    ['apiEndpoint with credentials', 'apiEndpoint', { ...base, apiEndpoint: `https://user:${SECRET}@host:443` }],
    ["emulator 'no' (taken as auto)", 'emulator', { ...base, emulator: 'no' }],
    ["projectId 'a/b'", 'projectId', { ...base, projectId: 'a/b' }],
    ['projectId 42', 'projectId', { ...base, projectId: 42 }],
    ["clientConfig 'x'", 'clientConfig', { ...base, clientConfig: 'x' }],
  ];
  for (const [label, option, options] of cases) {
    it(`${label}: INVALID_ARGUMENT naming ${option}, not retryable`, () => {
      const error = constructionError(label, options);
      expect(
        {
          code: error.code,
          retryable: error.retryable,
          names: error.message.includes(option),
          echoes: error.message.includes(SECRET),
        },
        `pubsubAdapter(${label}): ${error.message}`,
      ).toEqual({ code: 'INVALID_ARGUMENT', retryable: false, names: true, echoes: false });
    });
  }

  it('null options are INVALID_ARGUMENT, and good connection options still build an adapter', async () => {
    expect(constructionError('null', null).code, 'pubsubAdapter(null)').toBe('INVALID_ARGUMENT');
    for (const apiEndpoint of [
      '127.0.0.1:8085',
      'localhost:8085',
      'http://127.0.0.1:8085/',
      'us-east1-pubsub.googleapis.com',
      '[::1]:8085',
    ]) {
      const adapter = pubsubAdapter({ projectId: 'example.com:my-project', apiEndpoint, emulator: true, clientConfig: {} });
      await adapter.close();
    }
  });
});
