import { azureQueueAdapter, fromUrl } from '@bg/azure-queue';
import { type BadUrl, expectAdapterOrConfigError, expectNoSecret, failureOf, hideSecrets, urlRejectionTests } from '@bg/backends';
import { connect, isBgError } from '@bg/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AZURE_QUEUE_URL_PARAMETERS } from '../src/from-url.js';
import { connectionString, queueEndpoint, skipReason } from './backend.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_129);
/** A well-formed account key that is not Azurite's. */
const WRONG_KEY = Buffer.from('not-the-azurite-key-0123456789abcdef').toString('base64');
const SIG = 'ZZsigVALUE0123456789abcdefXYZ';

const enc = encodeURIComponent;

describe('azure-queue URLs are validated before anything connects', () => {
  const key = enc(WRONG_KEY);
  const sas = enc(`sv=2022-11-02&ss=q&srt=sco&sp=rwdlacup&se=2030-01-01&sig=${SIG}`);
  const bad: readonly BadUrl[] = [
    [`azure-queue://acct?accountKey=${key}&endpoint=not%20a%20url`, /"endpoint" must be an http\(s\) URL/],
    [`azure-queue://acct?accountKey=${key}&ttl=soon`, /"ttl" must be an integer/],
    [`azure-queue://acct?accountKey=${key}&ttl=0`, /"ttl" must be -1/],
    [`azure-queue://acct?accountKey=${key}&sas=${sas}`, /one of connectionString=, accountKey= or sas=/],
    [`azure-queue://acct?acountKey=${key}`, /unknown parameter "acountKey"/],
    [`azure-queue://acct?accountKey=${key}&accountKey=${key}`, /more than once/],
    [`azure-queue://acct?accountKey=${WRONG_KEY}+x`, /"accountKey" must be base64/],
    [`azure-queue://acct?sas=sv%3D2022-11-02`, /"sas" must be a url-encoded SAS token/],
    [`azure-queue://Bad_Account?sas=${sas}`, /account name/],
    [`azure-queue://acct:${key}@acct`, /credentials go in/],
    [`azure-queue://acct:10001?sas=${sas}`, /port/],
    [`azure-queue://acct/queue?sas=${sas}`, /nothing may follow/],
    [`azure-queue://?accountKey=${key}`, /needs an account/],
    [
      `azure-queue://?connectionString=${enc(`AccountName=a;AccountKey=${WRONG_KEY}`)}&endpoint=${enc('http://h:1')}`,
      /takes no account or endpoint/,
    ],
    [`azure-queue://?connectionString=${enc(WRONG_KEY)}`, /connection string/],
  ];
  for (const test of urlRejectionTests(bad, { secrets: [WRONG_KEY, key, SIG] })) it(test.name, test.run);
});

describe('an options url the Azure SDK refuses', () => {
  it('is INVALID_ARGUMENT without the SAS signature anywhere in the error', async () => {
    const url = `https://acct.queue.core.windows.net:99999/?sv=2022-11-02&sp=raup&sig=${enc(SIG)}`;
    const error = await failureOf(async () => azureQueueAdapter({ url }));
    expect(isBgError(error, 'INVALID_ARGUMENT'), `azureQueueAdapter({ url }) threw ${String(error)}`).toBe(true);
    expectNoSecret(error, 'azureQueueAdapter({ url }) with a bad port', [SIG, enc(SIG)]);
  });
});

describe.skipIf(skipReason !== undefined)('azure credentials never printed (Azurite)', () => {
  it('a wrong account key is AUTH_FAILED without the key in the error', async () => {
    const adapter = await connect(`azure-queue://devstoreaccount1?endpoint=${enc(queueEndpoint())}&accountKey=${enc(WRONG_KEY)}`);
    try {
      const error = await failureOf(() => adapter.stats('secret-check'));
      expect(isBgError(error, 'AUTH_FAILED'), `stats with a wrong key: ${String(error)}`).toBe(true);
      expectNoSecret(error, 'stats with a wrong key', [WRONG_KEY]);
    } finally {
      await adapter.close();
    }
  });

  it('a SAS token with a bad signature is AUTH_FAILED without the signature in the error', async () => {
    const token = `sv=2022-11-02&ss=q&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&st=2020-01-01T00:00:00Z&spr=http,https&sig=${enc(SIG)}`;
    const adapter = await connect(`azure-queue://devstoreaccount1?endpoint=${enc(queueEndpoint())}&sas=${enc(token)}`);
    try {
      const error = await failureOf(() => adapter.stats('secret-check'));
      expect(isBgError(error, 'AUTH_FAILED'), `stats with a bad SAS: ${String(error)}`).toBe(true);
      expectNoSecret(error, 'stats with a bad SAS', [SIG]);
    } finally {
      await adapter.close();
    }
  });

  it('a connection string with a wrong key is AUTH_FAILED without the key in the error', async () => {
    const wrong = connectionString().replace(/AccountKey=[^;]+/, `AccountKey=${WRONG_KEY}`);
    const adapter = await connect(`azure-queue://?connectionString=${enc(wrong)}`);
    try {
      const error = await failureOf(() => adapter.stats('secret-check'));
      expect(isBgError(error, 'AUTH_FAILED'), `stats with a wrong connection string: ${String(error)}`).toBe(true);
      expectNoSecret(error, 'stats with a wrong connection string', [WRONG_KEY]);
    } finally {
      await adapter.close();
    }
  });
});

describe('property: any azure-queue URL gives an adapter or a typed error, never a crash or a leak', () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9]{16,24}$/).map((s) => `Zz${s}`);
  const host = fc.constantFrom('', 'acct', 'devstoreaccount1', 'Bad_Name', 'ab');
  const value = (s: string) =>
    fc.constantFrom(
      s,
      Buffer.from(s).toString('base64'),
      `sv=2022-11-02&sig=${s}`,
      `AccountName=a;AccountKey=${Buffer.from(s).toString('base64')}`,
      'http://127.0.0.1:10001/devstoreaccount1',
      'not a url',
      '-1',
      '3600',
      '',
    );
  it('holds for generated URLs', async () => {
    await fc.assert(
      fc.asyncProperty(
        host,
        secret.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.array(fc.tuple(fc.constantFrom(...AZURE_QUEUE_URL_PARAMETERS, 'x'), value(s)), {
              maxLength: 3,
            }),
          ),
        ),
        async (h, [s, params]) => {
          const q = params.map(([k, v]) => `${k}=${enc(v)}`).join('&');
          const text = `azure-queue://${h}${q ? `?${q}` : ''}`;
          const secrets = [s, Buffer.from(s).toString('base64')];
          await expectAdapterOrConfigError(() => fromUrl(new URL(text)), `fromUrl(${hideSecrets(text, secrets)})`, {
            names: /./,
            secrets,
            codes: ['INVALID_ARGUMENT', 'ADAPTER_NOT_INSTALLED'],
          });
        },
      ),
      { numRuns: 150, seed: SEED, interruptAfterTimeLimit: 30_000 },
    );
  });
});
