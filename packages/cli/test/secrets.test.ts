import { freePort } from '@bg/backends';
import { describe, expect, inject, it } from 'vitest';
import { scrubText } from '../src/secrets.js';
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

  it('where a message cuts an echoed value short, a newline breaks the URL, or the dashboard token lands where a URL goes', async () => {
    // A long password (an IAM or Entra token used as one) cut at 40, 60 or 100 characters used to
    // print its first part: the masking matched whole secrets only, and a URL cut before its "@"
    // no longer read as one.
    const long = 'Passw0rdXYZ123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ';
    const pgUrl = `postgres://production_app_user:${long}@db.internal:5432/app`;
    const redisUrl = `redis://admin:${long}@127.0.0.1:${await freePort()}`;
    const token = '9f86d081884c7d659a2feaa0c55ad015';
    const cases: { what: string; argv: string[]; env?: Record<string, string>; secrets: string[] }[] = [
      { what: 'a URL as the value of --port (cut at 40)', argv: ['dashboard', '--port', redisUrl, 'memory:'], secrets: [long] },
      {
        what: 'a URL as the value of --limit (cut at 40)',
        argv: ['dead', 'list', 'memory:', '--queue', 'q-cut', '--limit', pgUrl],
        secrets: [long],
      },
      {
        what: 'a stray URL argument of enqueue (cut at 100)',
        argv: ['enqueue', 'email.welcome', '{}', pgUrl, '--queue', 'q-cut'],
        env: { BG_URL: 'memory:' },
        secrets: [long],
      },
      {
        what: 'a URL as a dead-letter id (cut at 60)',
        argv: ['dead', 'replay', 'memory:', '--queue', 'q-cut', pgUrl, '--yes'],
        secrets: [long],
      },
      {
        what: 'a password with a newline, in a URL that does not parse',
        argv: ['stats', 'redis://u:S3c\nr3tzzQQ@127.0.0.1:99999', '--queue', 'q-cut'],
        secrets: ['S3c\nr3tzzQQ', 'r3tzzQQ'],
      },
      { what: 'the dashboard token given where the URL goes', argv: ['dashboard', 'memory:', token], secrets: [token] },
      {
        what: 'BG_DASHBOARD_TOKEN given where the URL goes',
        argv: ['dashboard', 'memory:', token],
        env: { BG_DASHBOARD_TOKEN: token },
        secrets: [token],
      },
    ];
    for (const c of cases) {
      for (const json of [false, true]) {
        const what = `bgctl ${c.argv[0]}: ${c.what}${json ? ' (--json)' : ''}`;
        const result = await runCaptured([...c.argv, ...(json ? ['--json'] : [])], c.env ?? {});
        expect(result.code, `${what} fails: ${result.err}`).not.toBe(0);
        for (const secret of c.secrets) {
          // Not the secret, and not its first 12 characters either (a cut one).
          for (const part of [secret, secret.slice(0, 12)]) {
            expect(result.out + result.err, `${what}: printed ${JSON.stringify(part.slice(0, 4))}…`).not.toContain(part);
          }
        }
      }
    }
  });

  it('scrubText masks the start of a known secret where a message cut it short (at "…"), and nothing else', () => {
    const secret = 'ZmFrZS10b2tlbi0xMjM0NTY3ODkwYWJjZGVm';
    const cut = `${secret.slice(0, 20)}`;
    expect(scrubText(`got ${cut}… (36 characters)`, [secret]), 'cut at …').toBe('got ***… (36 characters)');
    expect(scrubText(`got "${cut}"… (36 characters)`, [secret]), 'cut inside a JSON string').toBe('got "***"… (36 characters)');
    expect(scrubText(`got ${cut} and more`, [secret]), 'not cut: not a secret as such').toBe(`got ${cut} and more`);
    expect(scrubText('got ZmFrZ… (5 characters)', [secret]), 'fewer than 6 characters of it').toBe('got ZmFrZ… (5 characters)');
  });
});
