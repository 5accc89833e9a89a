import {
  type BadUrl,
  expectAdapterOrConfigError,
  expectConfigError,
  expectNoSecret,
  failureOf,
  freePort,
  parsedUrl,
  urlRejectionTests,
} from '@bg/backends';
import { connect, isBgError } from '@bg/core';
import { fromUrl, optionsFromUrl } from '@bg/sqs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SQS_URL_PARAMETERS } from '../src/from-url.js';
import { endpoint, skipReason } from './backend.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY';
const SEED = Number(process.env.FC_SEED ?? 20_261_129);

const SECRETS = [KEY_ID, SECRET];

describe('sqs URLs are validated before anything connects', () => {
  const creds = `${KEY_ID}:${SECRET}@`;
  const bad: readonly BadUrl[] = [
    [`sqs://${creds}us-east-1?endpoint=not%20a%20url`, /"endpoint" must be an http\(s\) URL/],
    [`sqs://${creds}us-east-1?endpoint=ftp%3A%2F%2Fh%3A1`, /"endpoint" must be an http\(s\) URL/],
    [`sqs://${creds}us-east-1?endpoint=http%3A%2F%2F127.0.0.1%3A0`, /"endpoint" must be an http\(s\) URL/],
    [`sqs://${creds}us-east-1?fifo=yes`, /"fifo" must be true, false, 1 or 0/],
    [`sqs://${creds}us-east-1?maxMessageBytes=abc`, /"maxMessageBytes" must be an integer/],
    [`sqs://${creds}us-east-1?maxMessageBytes=1e3`, /"maxMessageBytes" must be an integer/],
    [`sqs://${creds}us-east-1?redriveMaxReceiveCount=0`, /"redriveMaxReceiveCount" must be an integer from 1 to 1000/],
    [`sqs://${creds}us-east-1?astralText=utf7`, /"astralText" must be one of raw, base64/],
    [`sqs://${creds}us-east-1?endpont=http%3A%2F%2Fh%3A1`, /unknown parameter "endpont"/],
    [`sqs://${creds}us-east-1?prefix=a&prefix=b`, /given more than once/],
    [`sqs://${creds}us-east-1?prefix=a%20b`, /"prefix" must be/],
    [`sqs://${creds}us-east-1:443`, /port/],
    [`sqs://${creds}US_EAST`, /region/],
    [`sqs://${KEY_ID}@us-east-1`, /both parts/],
    [`sqs://${creds}us-east-1#x`, /fragment/],
  ];
  for (const test of urlRejectionTests(bad, { secrets: SECRETS })) it(test.name, test.run);

  it('keeps the documented forms', () => {
    expect(optionsFromUrl(new URL('sqs://?endpoint=http://127.0.0.1:9324&fifo=0&astralText=base64'))).toEqual({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9324',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      fifo: false,
      astralText: 'base64',
    });
  });
});

describe('sqs credentials never printed', () => {
  it('an unreachable endpoint fails without the credentials in the error', async () => {
    const port = await freePort();
    const adapter = await connect(
      `sqs://${KEY_ID}:${SECRET}@us-east-1?endpoint=${encodeURIComponent(`http://127.0.0.1:${port}`)}`,
    );
    try {
      const error = await failureOf(() => adapter.stats('nowhere'));
      expect(isBgError(error, 'UNREACHABLE'), `stats on a closed port: ${String(error)}`).toBe(true);
      expectNoSecret(error, 'stats on a closed port', [KEY_ID, SECRET]);
    } finally {
      await adapter.close();
    }
  });

  it.skipIf(skipReason !== undefined)('a working emulator URL with credentials never shows them in errors', async () => {
    const adapter = await connect(`sqs://${KEY_ID}:${SECRET}@us-east-1?endpoint=${encodeURIComponent(endpoint())}`);
    try {
      const error = await failureOf(() => adapter.stats('never-created-queue'));
      expect(isBgError(error, 'QUEUE_NOT_FOUND'), `stats on a missing queue: ${String(error)}`).toBe(true);
      expectNoSecret(error, 'stats on a missing queue', [KEY_ID, SECRET]);
    } finally {
      await adapter.close();
    }
  });
});

describe('property: any sqs URL gives an adapter or a typed error, never a crash or a leak', () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9]{16,24}$/).map((s) => `Zz${s}`);
  const host = fc.constantFrom('', 'us-east-1', 'eu-west-1', 'US', 'a_b', 'x'.repeat(41));
  const value = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom('http://127.0.0.1:9324', 'not a url', '0', '1', 'true', '-5', '1048576', '99999999999999999999', 'raw'),
  );
  const param = fc.tuple(fc.constantFrom(...SQS_URL_PARAMETERS, 'x'), value);
  it('holds for generated URLs', async () => {
    await fc.assert(
      fc.asyncProperty(
        secret,
        secret,
        host,
        fc.array(param, { maxLength: 4 }),
        fc.boolean(),
        async (id, key, h, params, withCreds) => {
          const q = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
          const text = `sqs://${withCreds ? `${id}:${key}@` : ''}${h}${q ? `?${q}` : ''}`;
          const url = parsedUrl(text);
          if (!url) return;
          await expectAdapterOrConfigError(() => fromUrl(url), `fromUrl(${text.replace(key, '…')})`, {
            names: /sqs URL|maxMessageBytes|redriveMaxReceiveCount/,
            secrets: [id, key],
          });
        },
      ),
      { numRuns: 200, seed: SEED },
    );
  });
});

describe('configuration errors from options are never retryable', () => {
  it('sqsAdapter({ endpoint: "not a url" }) fails at construction with INVALID_ARGUMENT, not a retryable BACKEND_ERROR', async () => {
    const { sqsAdapter } = await import('@bg/sqs');
    // Checked at construction (it used to fail at the first call only).
    const error = await failureOf(() =>
      sqsAdapter({
        endpoint: 'not a url',
        region: 'us-east-1',
        credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
      }),
    );
    expectConfigError(error, 'sqsAdapter with endpoint "not a url"', { names: /option endpoint/, secrets: SECRETS });
  });
});
