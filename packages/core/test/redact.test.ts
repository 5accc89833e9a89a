import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BgError, REDACTED, redactText, redactUrl, redactValue, toErrorInfo } from '../src/index.js';

/** Every credential form the adapters accept, with the secret that must not survive. */
const FORMS: readonly {
  readonly form: string;
  readonly input: string;
  readonly secrets: readonly string[];
  readonly kept?: string;
}[] = [
  {
    form: 'redis password',
    input: 'redis://:hunter2Secret@127.0.0.1:6379/0',
    secrets: ['hunter2Secret'],
    kept: '127.0.0.1:6379',
  },
  {
    form: 'redis ACL user + password',
    input: 'rediss://app:s3cr3tPass@cache:6380?prefix=bg',
    secrets: ['s3cr3tPass'],
    kept: 'app:***@',
  },
  { form: 'unparseable URL (bad port)', input: 'redis://:hunter2Secret@127.0.0.1:99999', secrets: ['hunter2Secret'] },
  { form: 'unparseable URL with @ in the password', input: 'redis://:pa@ssWord9@h:99999', secrets: ['pa@ssWord9', 'ssWord9'] },
  {
    form: 'sqs secret key with an unencoded "/" (the URL does not parse)',
    input: 'sqs://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@eu-west-1',
    secrets: ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'],
    kept: '@eu-west-1',
  },
  {
    form: 'redis password with an unencoded "#"',
    input: 'redis://:pa#ssWord77@cache:6379',
    secrets: ['pa#ssWord77', 'ssWord77'],
  },
  {
    form: 'postgres password with an unencoded "/" and "?"',
    input: 'postgres://app:s3/cr?3tPw@db:5432/app',
    secrets: ['s3/cr?3tPw', 'cr?3tPw', '3tPw'],
    kept: '@db:5432/app',
  },
  {
    form: 'a token as the user name of a URL',
    input: 'https://ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8@github.com/org/repo.git',
    secrets: ['ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'],
    kept: 'github.com/org/repo.git',
  },
  {
    form: 'quoted libpq-style assignments',
    input: 'host=db user=app password=\'s3cr3t pw1\' sslpassword="kp-777"',
    secrets: ['s3cr3t', 'pw1', 'kp-777'],
  },
  { form: 'unquoted "password: x"', input: '{password: s3cr3tPw2, user: app}', secrets: ['s3cr3tPw2'] },
  { form: 'unquoted secret key field', input: 'SecretAccessKey: wJalrXUtnFEMIK7MDENG', secrets: ['wJalrXUtnFEMIK7MDENG'] },
  { form: 'an API key header', input: 'X-Api-Key: ak-live-4242', secrets: ['ak-live-4242'] },
  { form: 'a "Token" authorization', input: 'Authorization: Token s3cr3t-tok-3', secrets: ['s3cr3t-tok-3'] },
  { form: 'an authorization of an unknown scheme', input: 'Authorization: Custom k=v s3cr3t-cst-9', secrets: ['s3cr3t-cst-9'] },
  { form: 'a cookie header', input: 'Cookie: session=abc123sess; theme=dark', secrets: ['abc123sess'] },
  {
    form: 'postgres user + password',
    input: 'postgres://app:pgS3cretPw@db.internal:5432/app?schema=jobs',
    secrets: ['pgS3cretPw'],
    kept: 'db.internal:5432',
  },
  {
    form: 'postgresql password with percent-encoded characters',
    input: 'postgresql://app:p%40ss%2Fw0rdPG@127.0.0.1:5432/app',
    secrets: ['p%40ss%2Fw0rdPG', 'p@ss/w0rdPG'],
  },
  {
    form: 'sqs access key id + secret key',
    input: 'sqs://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY@us-east-1?endpoint=http://127.0.0.1:4566',
    secrets: ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY'],
    kept: 'endpoint=http://127.0.0.1:4566',
  },
  {
    form: 'sqs session token parameter',
    input: 'sqs://us-east-1?sessionToken=FwoGZXIvYXdzEJr%2F%2F%2FTOKEN',
    secrets: ['FwoGZXIvYXdzEJr', 'TOKEN'],
  },
  {
    form: 'azure account key parameter',
    input:
      'azure-queue://devstoreaccount1?accountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq%2FK1SZFPTOtr%2FKBHBeksoGMGw%3D%3D',
    secrets: ['Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq', 'K1SZFPTOtr'],
    kept: 'devstoreaccount1',
  },
  {
    form: 'azure SAS token in sas=',
    input:
      'azure-queue://acct?sas=sv%3D2022-11-02%26ss%3Dq%26srt%3Dsco%26sp%3Drwdlacup%26se%3D2030-01-01%26sig%3DabcSIGdef123%253D',
    secrets: ['abcSIGdef123'],
  },
  {
    form: 'azure SAS signature in an endpoint URL',
    input: 'azure-queue://acct?endpoint=https%3A%2F%2Facct.queue.core.windows.net%2F%3Fsv%3D2022-11-02%26sig%3DSIGVALUE42',
    secrets: ['SIGVALUE42'],
    kept: 'acct.queue.core.windows.net',
  },
  {
    form: 'azure SAS URL',
    input: 'https://acct.queue.core.windows.net/jobs?sv=2022-11-02&se=2030-01-01&sp=raup&sig=SIGVALUE43%3D',
    secrets: ['SIGVALUE43'],
    kept: 'sv=2022-11-02&se=2030-01-01&sp=raup',
  },
  {
    form: 'azure connection string in a URL',
    input:
      'azure-queue://?connectionString=DefaultEndpointsProtocol%3Dhttp%3BAccountName%3Ddevstoreaccount1%3BAccountKey%3DEby8vdM02xNOg%3D%3D%3BQueueEndpoint%3Dhttp%3A%2F%2F127.0.0.1%3A10001%2Fdevstoreaccount1',
    secrets: ['Eby8vdM02xNOg'],
  },
  {
    form: 'azure connection string',
    input:
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOg+/x==;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1',
    secrets: ['Eby8vdM02xNOg'],
    kept: 'AccountName=devstoreaccount1',
  },
  {
    form: 'azure SAS connection string',
    input: 'QueueEndpoint=https://acct.queue.core.windows.net;SharedAccessSignature=sv=2022-11-02&ss=q&sig=SIGVALUE44%3D',
    secrets: ['SIGVALUE44'],
  },
  {
    form: 'bearer token',
    input: 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
    secrets: ['eyJhbGciOiJSUzI1NiJ9'],
  },
  {
    form: 'client secret parameter',
    input: 'https://login.example.com/token?client_id=app&client_secret=CS-9f8e7d',
    secrets: ['CS-9f8e7d'],
    kept: 'client_id=app',
  },
  {
    form: 'google credentials JSON',
    input:
      '{"type":"service_account","project_id":"p","private_key_id":"k1d2","private_key":"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkq\\n-----END PRIVATE KEY-----\\n","client_email":"a@p.iam.gserviceaccount.com"}',
    secrets: ['MIIEvQIBADANBgkq', 'k1d2'],
    kept: '"project_id":"p"',
  },
  {
    form: 'PEM private key in free text',
    input: 'bad key -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY----- end',
    secrets: ['MIIEpAIBAAKCAQEA'],
  },
  {
    form: 'a numeric secret field in JSON',
    input: '{"user":"app","password":918273645,"pin":1234}',
    secrets: ['918273645'],
    kept: '"pin":1234',
  },
  {
    form: 'JSON inside a JSON string (a payload field holding JSON)',
    input: '{"payload":{"config":"{\\"user\\":\\"app\\",\\"password\\":\\"nestedPw77\\",\\"apiKey\\":4242424242}"}}',
    secrets: ['nestedPw77', '4242424242'],
    kept: '\\"user\\":\\"app\\"',
  },
  {
    form: 'JSON two strings deep, its value holding an escaped quote',
    input: '{"a":"{\\"b\\":\\"{\\\\\\"token\\\\\\":\\\\\\"tk-\\\\\\\\\\\\\\"q-9z8y\\\\\\"}\\"}"}',
    secrets: ['tk-', 'q-9z8y'],
  },
  {
    form: 'option object printed by util.inspect',
    input: "{ region: 'us-east-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMIK7' } }",
    secrets: ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMIK7'],
    kept: "region: 'us-east-1'",
  },
];

describe('redaction', () => {
  for (const { form, input, secrets, kept } of FORMS) {
    it(`masks ${form} in URLs, text, errors and dead-letter text`, () => {
      const error = new BgError('INVALID_ARGUMENT', `cannot use ${input}`, { details: { url: input, nested: { value: input } } });
      const outputs: Record<string, string> = {
        redactUrl: redactUrl(input),
        redactText: redactText(`failed: ${input} (retrying)`),
        'BgError message': error.message,
        'String(err)': String(error),
        'JSON.stringify(err)': JSON.stringify(error),
        'err.stack': error.stack ?? '',
        'toErrorInfo(new Error)': JSON.stringify(toErrorInfo(new Error(`handler failed: ${input}`))),
        'toErrorInfo(string)': JSON.stringify(toErrorInfo(`thrown string ${input}`)),
        // An HTTP client's error class name or code can carry the URL it called.
        'toErrorInfo(error.name)': JSON.stringify(toErrorInfo(Object.assign(new Error('x'), { name: `GET ${input}` }))),
        'toErrorInfo(error.code)': JSON.stringify(toErrorInfo(Object.assign(new Error('x'), { code: `E_FETCH ${input}` }))),
      };
      for (const [where, text] of Object.entries(outputs)) {
        for (const secret of secrets) {
          expect(text, `${where} of ${form} must not contain ${JSON.stringify(secret)}`).not.toContain(secret);
        }
        expect(text, `${where} of ${form} marks what it masked`).toContain(REDACTED);
      }
      if (kept !== undefined) expect(redactUrl(input), `redactUrl of ${form} keeps what is not secret`).toContain(kept);
    });
  }

  it('leaves text and URLs without secrets as they were', () => {
    for (const text of [
      'redis://127.0.0.1:6379/2?prefix=bg',
      'sqs://us-east-1?endpoint=http://127.0.0.1:4566&prefix=dev-',
      'pubsub://proj?endpoint=127.0.0.1:8085',
      'memory:',
      'queue "jobs" does not exist; key=value idempotencyKey=k1 limit: 5',
      'Basic auth failed',
      'redis://default@127.0.0.1:6379',
      'postgres://app@db:5432/app',
      'user: app, limit: 5',
      'Redis rejected the credentials (WRONGPASS invalid username-password pair or user is disabled.)',
      'GET https://api.example.com:443/v1/items?owner=a@b.example failed',
    ]) {
      expect(redactUrl(text), `redactUrl(${text})`).toBe(text);
      expect(redactText(text), `redactText(${text})`).toBe(text);
    }
  });

  it('masks secret fields of option objects and keeps the rest (same reference when nothing is secret)', () => {
    const options = {
      region: 'eu-west-1',
      credentials: { accessKeyId: 'A', secretAccessKey: 'S' },
      accountKey: 'K',
      urls: ['redis://:pw99@h:1'],
    };
    expect(redactValue(options)).toEqual({
      region: 'eu-west-1',
      credentials: REDACTED,
      accountKey: REDACTED,
      urls: [`redis://:${REDACTED}@h:1`],
    });
    const plain = { failedIds: ['a', 'b'], limit: 5, key: 'attr' };
    expect(redactValue(plain), 'no secret: the same object').toBe(plain);
    const cycle: Record<string, unknown> = { password: 'p' };
    cycle.self = cycle;
    expect((redactValue(cycle) as Record<string, unknown>).password).toBe(REDACTED);
  });

  it('dead-letter text drops the link suffix of older versions', () => {
    const info = toErrorInfo(new Error('queue gone [QUEUE_NOT_FOUND: https://bg.dev/errors#queue-not-found]'));
    expect(info.message).toBe('queue gone');
  });

  it('stays linear on long inputs (no catastrophic backtracking)', () => {
    const inputs = [
      'a.'.repeat(50_000),
      'x'.repeat(100_000),
      `"${'k'.repeat(50_000)}`,
      `redis://${'u'.repeat(50_000)}`,
      '='.repeat(100_000),
      `\\"password\\":\\"${'x'.repeat(100_000)}`,
      '\\"password\\":\\"x'.repeat(10_000),
      '"pin": '.repeat(20_000),
      // A payload of backslashes (a Windows path gone wrong): ESCAPED_PAIR was tried at every one.
      '\\'.repeat(200_000),
      `${'\\'.repeat(100_000)}"password${'\\'.repeat(100_000)}"`,
      ' = '.repeat(30_000),
      `sk-${'a-'.repeat(50_000)}!`,
      `eyJ${'a'.repeat(50_000)}.`.repeat(2),
      'ghp_'.repeat(25_000),
      'hooks.slack.com/services/'.repeat(4_000),
    ];
    for (const input of inputs) {
      const started = performance.now();
      redactText(input);
      redactUrl(input);
      expect(performance.now() - started, `redacting ${input.slice(0, 10)}… (${input.length} chars)`).toBeLessThan(2_000);
    }
  });
});

describe('redaction keeps prose', () => {
  it('does not mask the word after "name= " in a sentence', () => {
    const text = 'give one of connectionString=, accountKey= or sas=';
    expect(redactText(text)).toBe(text);
  });

  it('masks "name = value" with spaces on both sides (config files), for secret names only', () => {
    expect(redactText('bad config line: password = SECRETC1')).toBe('bad config line: password = ***');
    expect(redactText('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG')).toBe('aws_secret_access_key = ***');
    expect(redactText('region = eu-west-1'), 'not a secret name').toBe('region = eu-west-1');
  });
});

describe('redaction of a cause whose stack was read before bg wrapped it', () => {
  it('masks the stack too, not only the message', () => {
    const cause = new Error('connect to postgres://app:hunter2Pw@db/app failed');
    // A driver or a logger looked at the stack first: V8 has formatted it with the secret.
    expect(cause.stack, 'the stack as the driver left it').toContain('hunter2Pw');
    const error = new BgError('UNREACHABLE', 'cannot connect', { cause });
    expect(cause.message, 'cause message').not.toContain('hunter2Pw');
    expect(cause.stack, 'cause stack').not.toContain('hunter2Pw');
    expect(inspect(error, { depth: 5 }), 'util.inspect of the BgError').not.toContain('hunter2Pw');
  });

  it('masks the errors an AggregateError holds', () => {
    const inner = [new Error('connect to redis://:hunter2Agg@10.0.0.1:6379 refused'), new Error('password: hunter2Agg2')];
    const cause = new AggregateError(inner, 'every address failed');
    const error = new BgError('UNREACHABLE', 'cannot connect', { cause });
    const text = inspect(error, { depth: 6 });
    for (const secret of ['hunter2Agg', 'hunter2Agg2']) expect(text, `util.inspect shows ${secret}`).not.toContain(secret);
  });
});

describe('redaction of a secret assignment at the start of a quoted value (an outside audit: bgctl dead show, the dashboard)', () => {
  const payloads: readonly { readonly field: string; readonly value: string; readonly secret: string; readonly kept: string }[] =
    [
      { field: 'storage', value: 'AccountKey=LeakKey123==;AccountName=acct', secret: 'LeakKey123', kept: 'AccountName=acct' },
      { field: 'db', value: 'Password=LeakPw789;Server=sql1', secret: 'LeakPw789', kept: 'Server=sql1' },
      { field: 'hook', value: 'token=LeakTok000', secret: 'LeakTok000', kept: 'token=***' },
      { field: 'q', value: 'sig=LeakSig222&se=2030', secret: 'LeakSig222', kept: 'se=2030' },
    ];
  for (const { field, value, secret, kept } of payloads) {
    it(`masks "${field}":"${value}" in JSON as stored, pretty-printed, and in single quotes`, () => {
      const body = JSON.stringify({ payload: { [field]: value } });
      const texts: Record<string, string> = {
        'compact JSON': body,
        'pretty JSON (bgctl dead show)': JSON.stringify(JSON.parse(body), null, 2),
        'JSON inside a JSON string (dead list --json)': JSON.stringify({ body }),
        'util.inspect style': `{ ${field}: '${value}' }`,
        'an array item': JSON.stringify([value]),
      };
      for (const [form, text] of Object.entries(texts)) {
        const out = redactText(text);
        expect(out, `redactText of ${form} ${text} must not contain ${secret}`).not.toContain(secret);
        expect(out, `redactText of ${form} ${text} keeps what is not secret`).toContain(kept);
      }
    });
  }

  it('leaves a quoted assignment that is not secret as it was', () => {
    for (const text of ['{"q":"limit=5&page=2"}', '{"cs":"AccountName=acct;EndpointSuffix=core.windows.net"}', "'key=value'"]) {
      expect(redactText(text), `redactText(${text})`).toBe(text);
    }
  });
});

describe('redaction of tokens by their shape (no name before them)', () => {
  // Made-up tokens in the published shapes of each service; each must not survive anywhere.
  const tokens: readonly (readonly [string, string])[] = [
    ['GitHub personal access token', `ghp_${'A1b2C3d4E5'.repeat(4)}`],
    ['GitHub fine-grained token', `github_pat_11AB${'cD3_eF4gH5'.repeat(6)}`],
    ['GitLab token', `glpat-${'xY9_zW8-vU'.repeat(2)}`],
    ['Slack bot token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'],
    ['npm token', `npm_${'Qw3Er4Ty5U'.repeat(4)}`],
    ['Google API key', `AIza${'Sy0123456789abcdefghijklmnopqrstuvw'.slice(0, 35)}`],
    ['Google OAuth access token', `ya29.${'a0AfH6SMB-xyz_123'.repeat(3)}`],
    ['Stripe secret key', `sk_live_${'51HxYzAbCdEf'.repeat(2)}`],
    ['sk- API key', `sk-proj-${'Ab1Cd2Ef3Gh4'.repeat(4)}`],
    ['JSON Web Token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXNlY3JldA'],
  ];
  for (const [kind, token] of tokens) {
    it(`masks a bare ${kind} in free text, URLs, option objects and dead-letter errors`, () => {
      const outputs = {
        redactText: redactText(`GET /repos failed (401) with ${token}, retrying`),
        redactUrl: redactUrl(`https://api.example.com/v1/items?x=1#${token}`),
        'redactUrl of a path': redactUrl(`https://api.example.com/t/${token}/items`),
        redactValue: JSON.stringify(redactValue({ note: `using ${token}` })),
        toErrorInfo: JSON.stringify(toErrorInfo(new Error(`upstream refused ${token}`))),
      };
      for (const [where, text] of Object.entries(outputs))
        expect(text, `${where} kept the ${kind}: ${text}`).not.toContain(token.slice(8));
      expect(outputs.redactText, 'the text around the token is kept').toContain('GET /repos failed (401) with ***, retrying');
    });
  }

  it('masks the secret path of a Slack webhook URL', () => {
    const url = 'https://hooks.slack.com/services/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';
    const text = redactText(`webhook ${url} answered 500`);
    expect(text, text).not.toContain('zYxWvUtSrQpOnMlKjIhGfEdC');
    expect(text).toContain('hooks.slack.com/services/***');
  });

  it('keeps words and ids that only look a little like tokens', () => {
    for (const text of [
      'task-runner sk-learn ghp_short eyJ alone',
      'job 0193f1d2-7c4e-7b1a-9f3e-2a1b3c4d5e6f failed: sk_live is not set',
      'xoxb- prefix documented',
    ])
      expect(redactText(text), text).toBe(text);
  });
});
