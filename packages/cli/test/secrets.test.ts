import { freePort } from '@bg/backends';
import { describe, expect, inject, it } from 'vitest';
import { runCaptured } from './capture-io.js';

const azure = inject('azure');
const sqs = inject('sqs');

const enc = encodeURIComponent;
const SIG = 'ZZsigVALUE0123456789abcdefXYZ';
const KEY = Buffer.from('cli-secret-account-key-0123456789').toString('base64');
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY';

/** Every credential form, in URLs that fail (validation or a closed port): the error paths. */
async function failingForms(): Promise<{ form: string; url: string; secrets: string[] }[]> {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const sas = `sv=2022-11-02&ss=q&srt=sco&sp=rwdlacup&se=2030-01-01&sig=${SIG}`;
  return [
    { form: 'redis password, bad port', url: 'redis://:hunter2Secret@127.0.0.1:99999', secrets: ['hunter2Secret'] },
    { form: 'redis password, bad db', url: 'redis://:hunter2Secret@127.0.0.1:6379/abc', secrets: ['hunter2Secret'] },
    {
      form: 'redis password, closed port',
      url: `redis://user:hunter2Secret@127.0.0.1:${await freePort()}`,
      secrets: ['hunter2Secret'],
    },
    {
      form: 'sqs keys, bad endpoint',
      url: `sqs://${AWS_ID}:${AWS_SECRET}@us-east-1?endpoint=not%20a%20url`,
      secrets: [AWS_ID, AWS_SECRET],
    },
    {
      form: 'sqs keys, closed port',
      url: `sqs://${AWS_ID}:${AWS_SECRET}@us-east-1?endpoint=${enc(closed)}`,
      secrets: [AWS_ID, AWS_SECRET],
    },
    {
      form: 'sqs secret key with an unencoded "/" (the URL does not parse)',
      url: `sqs://${AWS_ID}:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@us-east-1`,
      secrets: [AWS_ID, 'wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'],
    },
    {
      form: 'postgres password with an unencoded "/"',
      url: 'postgres://app:s3/cr3tPgPw@127.0.0.1:5432/app',
      secrets: ['cr3tPgPw'],
    },
    { form: 'redis password with an unencoded "#"', url: 'redis://:pa#ssWord77@127.0.0.1:6379', secrets: ['ssWord77'] },
    { form: 'azure SAS, unknown parameter', url: `azure-queue://acct?sas=${enc(sas)}&bogus=1`, secrets: [SIG] },
    {
      form: 'azure SAS, closed port',
      url: `azure-queue://acct?sas=${enc(sas)}&endpoint=${enc(`${closed}/acct`)}`,
      secrets: [SIG],
    },
    {
      form: 'azure account key, closed port',
      url: `azure-queue://acct?accountKey=${enc(KEY)}&endpoint=${enc(`${closed}/acct`)}`,
      secrets: [KEY],
    },
    {
      form: 'azure connection string, closed port',
      url: `azure-queue://?connectionString=${enc(`DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=${KEY};QueueEndpoint=${closed}/acct`)}`,
      secrets: [KEY],
    },
  ];
}

function expectClean(text: string, secrets: readonly string[], what: string): void {
  for (const s of secrets) {
    for (const variant of [s, enc(s)]) expect(text, `${what}: ${s.slice(0, 4)}… printed`).not.toContain(variant);
  }
}

describe('the CLI never prints credentials', () => {
  it('in any command, mode (human, --json) or source (argument, BG_URL) on the error paths', { timeout: 240_000 }, async () => {
    for (const { form, url, secrets } of await failingForms()) {
      for (const json of [false, true]) {
        for (const source of ['arg', 'env'] as const) {
          const u = source === 'arg' ? [url] : [];
          const env: Record<string, string> = source === 'env' ? { BG_URL: url } : {};
          const flags = json ? ['--json'] : [];
          const commands: string[][] = [
            ['stats', ...u, '--queue', 'secret-check', ...flags],
            ['dead', 'list', ...u, '--queue', 'secret-check', ...flags],
            ['enqueue', ...u, 'secret.check', '{}', '--queue', 'secret-check', ...flags],
            ['move', '--from', url, '--to', 'memory:', '--queue', 'secret-check', ...flags],
          ];
          for (const argv of commands) {
            const what = `bg ${argv[0]} (${form}, ${json ? '--json' : 'human'}, ${source})`;
            const result = await runCaptured(argv, env);
            expect(result.code, `${what} fails: ${result.err}`).not.toBe(0);
            expect(result.err, `${what} explains the failure with a code`).toMatch(
              json ? /^\{"error":\{"code":/ : /bgctl: [A-Z_]+: |bgctl: /,
            );
            expectClean(result.out + result.err, secrets, what);
          }
        }
      }
    }
  });

  it.skipIf('skip' in azure)(
    'on success: stats with an account key (Azurite), human and --json, argument and BG_URL',
    async () => {
      const url = (azure as { url: string }).url;
      const key = new URL(url).searchParams.get('accountKey') as string;
      for (const json of [false, true]) {
        for (const [argv, env] of [
          [['stats', url, '--queue', 'secret-ok'], {}],
          [['stats', '--queue', 'secret-ok'], { BG_URL: url }],
        ] as const) {
          const result = await runCaptured([...argv, ...(json ? ['--json'] : [])], env);
          expect(result.code, `bg stats on Azurite: ${result.err}`).not.toBe(2);
          expectClean(
            result.out + result.err,
            [key],
            `bg stats${json ? ' --json' : ''} (Azurite, ${'BG_URL' in env ? 'BG_URL' : 'arg'})`,
          );
          if (json && result.code === 0) {
            expect(JSON.parse(result.out).backend, 'the --json backend field is the redacted URL').toContain('accountKey=***');
          }
        }
      }
    },
  );

  it.skipIf('skip' in sqs)('on success: stats with access keys in the URL (fauxqs) in --json', async () => {
    const base = new URL((sqs as { url: string }).url);
    const url = `sqs://${AWS_ID}:${AWS_SECRET}@${base.host}${base.search}`;
    const result = await runCaptured(['stats', url, '--queue', 'secret-ok', '--json']);
    expectClean(result.out + result.err, [AWS_ID, AWS_SECRET], 'bg stats --json (fauxqs)');
    if (result.code === 0) expect(JSON.parse(result.out).backend, 'backend field redacted').toMatch(/^sqs:\/\/\*\*\*:\*\*\*@/);
  });
});
