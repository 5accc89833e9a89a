import {
  type BadUrl,
  expectAdapterOrConfigError,
  expectNoSecret,
  failureOf,
  freePort,
  parsedUrl,
  urlRejectionTests,
} from '@bg/backends';
import { connect, isBgError } from '@bg/core';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { PUBSUB_URL_PARAMETERS } from '../src/from-url.js';
import { fromUrl, pubsubAdapter } from '../src/index.js';

const endpoint = inject('pubsubEndpoint');
const SEED = Number(process.env.FC_SEED ?? 20_261_129);
const PRIVATE_KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCzZZsecret';

describe('pubsub URLs are validated before anything connects', () => {
  const bad: readonly BadUrl[] = [
    ['pubsub://proj?endpoint=not%20a%20url', /"endpoint" must be host or host:port/],
    ['pubsub://proj?endpoint=127.0.0.1:0', /"endpoint" must be host or host:port/],
    ['pubsub://proj?endpoint=127.0.0.1:70000', /"endpoint" must be host or host:port/],
    ['pubsub://proj?timeoutMs=-1', /"timeoutMs" must be an integer from 1/],
    ['pubsub://proj?pollIntervalMs=fast', /"pollIntervalMs" must be an integer/],
    ['pubsub://proj?exactlyOnce=maybe', /"exactlyOnce" must be true, false, 1 or 0/],
    ['pubsub://proj?maxDeliveryAttempts=4', /"maxDeliveryAttempts" must be an integer from 5/],
    ['pubsub://proj?maxDeliveryAttempts=101', /"maxDeliveryAttempts" must be an integer from 5/],
    ['pubsub://proj?endpiont=127.0.0.1:8085', /unknown parameter "endpiont"/],
    ['pubsub://proj?prefix=a&prefix=b', /more than once/],
    ['pubsub://proj?prefix=a%20b', /"prefix" must be/],
    ['pubsub://proj?prefix=1-', /"prefix" must be .*starting with a letter/],
    ['pubsub://user:hunter2Secret@proj', /credentials do not belong/],
    ['pubsub://proj:8085', /port/],
    ['pubsub://proj/extra', /nothing may follow/],
    ['pubsub://pr%20oj', /project id/],
    ['pubsub://proj#x', /fragment/],
  ];
  for (const test of urlRejectionTests(bad, { secrets: ['hunter2Secret'] })) it(test.name, test.run);
});

describe('pubsub credentials never printed', () => {
  it('a service-account private key given as options never shows in the error', async () => {
    const port = await freePort();
    const adapter = pubsubAdapter({
      projectId: 'secret-check',
      apiEndpoint: `127.0.0.1:${port}`,
      emulator: false,
      timeoutMs: 2_000,
      clientConfig: {
        credentials: {
          client_email: 'bg@secret-check.iam.gserviceaccount.com',
          private_key: `-----BEGIN PRIVATE KEY-----\n${PRIVATE_KEY_BODY}\n-----END PRIVATE KEY-----\n`,
        },
      },
    });
    try {
      const error = await failureOf(() => adapter.stats('secret-check'));
      expect(isBgError(error), `stats with a bogus key on a closed port: ${String(error)}`).toBe(true);
      expectNoSecret(error, 'stats with a bogus service-account key', [PRIVATE_KEY_BODY]);
    } finally {
      await adapter.close();
    }
  });

  it.skipIf(!endpoint)('connect() to the emulator by URL works after validation', async () => {
    const adapter = await connect(`pubsub://url-check?endpoint=${endpoint}&exactlyOnce=1&timeoutMs=5000&maxDeliveryAttempts=7`);
    try {
      expect(adapter.capabilities.maxDeliveries, 'maxDeliveryAttempts=7 in the URL').toBe(7);
      const error = await failureOf(() => adapter.stats('never-created'));
      expect(isBgError(error, 'QUEUE_NOT_FOUND'), `stats on a missing queue: ${String(error)}`).toBe(true);
    } finally {
      await adapter.close();
    }
  });
});

describe('property: any pubsub URL gives an adapter or a typed error, never a crash or a leak', () => {
  const value = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom('127.0.0.1:8085', '[::1]:8085', 'host', 'not a url', '0', '1', 'false', '-5', '99999999999999999999'),
  );
  const param = fc.tuple(fc.constantFrom(...PUBSUB_URL_PARAMETERS, 'x'), value);
  const host = fc.constantFrom('', 'proj', 'my-project', 'example.com:proj', 'Bad Name', '-x');
  it('holds for generated URLs', async () => {
    await fc.assert(
      fc.asyncProperty(host, fc.array(param, { maxLength: 4 }), async (h, params) => {
        const q = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        const text = `pubsub://${encodeURIComponent(h)}${q ? `?${q}` : ''}`;
        const url = parsedUrl(text);
        if (!url) return;
        await expectAdapterOrConfigError(() => fromUrl(url), `fromUrl(${text})`, { names: /pubsub URL/ });
      }),
      { numRuns: 200, seed: SEED },
    );
  });
});
