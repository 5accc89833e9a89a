import { type RedisServer, startRedis } from '@bg/backends/redis';
import { type Adapter, connect, encodeEnvelope } from '@bg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './capture-io.js';
import { runBg } from './helpers.js';

/** What the sixth outside audit of bgctl found; each test failed on the code before its fix. */

const id = (n: number) => `0190a0b0-c0d0-7e00-8000-${String(n).padStart(12, '0')}`;
const openMemory = (store: string): Promise<Adapter> => connect(`memory://${store}`, { load: (name) => import(name) });

/** One dead letter holding `body`, with `error` as its last error, dead-lettered a second ago. */
async function seedDeadBody(adapter: Adapter, queue: string, jobId: string, body: string, error = 'boom'): Promise<void> {
  await adapter.ensureQueue(queue);
  await adapter.send(queue, [{ id: jobId, body, attributes: { 'bg-type': 'creds.rotate' } }]);
  const [m] = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 1_000 });
  if (!m) throw new Error(`seeding ${jobId}: nothing received`);
  await adapter.deadLetter(queue, m, {
    reason: 'permanent-error',
    error: { message: error },
    attempts: 1,
    deadLetteredAt: Date.now() - 1_000,
  });
  await adapter.ack(queue, m.handle);
}

describe('bgctl help TOPIC', () => {
  it('an unknown topic is a usage error (exit 2, on stderr), not the main help with exit 0', async () => {
    const run = await runCaptured(['help', 'stast']);
    expect(run.code, `bgctl help stast exited ${run.code}: a typo must not look like success`).toBe(2);
    expect(run.err, 'the error names the unknown topic and the commands').toMatch(/"stast".*stats/s);
    expect(run.out, 'nothing on stdout for a usage error').toBe('');
  });

  it('Object.prototype names are unknown topics too (help constructor printed "function Object()", the bin a stack trace)', async () => {
    for (const topic of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const run = await runCaptured(['help', topic]);
      expect({ topic, code: run.code }, `bgctl help ${topic}: ${run.out}${run.err}`).toEqual({ topic, code: 2 });
      expect(run.out + run.err, `bgctl help ${topic} printed a function's source`).not.toContain('[native code]');
    }
  });

  it('known topics still print their help on stdout with exit 0', async () => {
    const run = await runCaptured(['help', 'dead']);
    expect({ code: run.code, head: run.out.split('\n')[0] }, run.err).toEqual({
      code: 0,
      head: 'bgctl dead <list|show|replay|purge> URL [options]',
    });
  });
});

describe('secrets held in lists or objects under a secret name (a JWK under privateKey, apiKeys: [...])', () => {
  // scrubValue masked only strings and numbers under secret names, and dead show pretty-printed
  // the envelope as text: every value inside an array or object named like a secret was shown.
  const store = 'audit6-composite';
  const queue = 'creds';
  const jobId = id(601);
  const secrets = ['LIVEKEYaaaa1111', 'JWKprivateDddd2222', 'hunter2-in-a-list', 'NESTEDtoken3333'];
  const payload = {
    user: 'visible-user-name',
    apiKeys: ['LIVEKEYaaaa1111'],
    privateKey: { kty: 'RSA', n: 'public-modulus', d: 'JWKprivateDddd2222' },
    password: ['hunter2-in-a-list'],
    auth: { scheme: 'custom', value: 'NESTEDtoken3333' },
  };
  beforeAll(async () => {
    const adapter = await openMemory(store);
    const body = encodeEnvelope({
      bg: 1,
      id: jobId,
      type: 'creds.rotate',
      v: 1,
      payload,
      createdAt: new Date().toISOString(),
    } as never);
    await seedDeadBody(adapter, queue, jobId, body);
  });

  for (const argv of [
    ['dead', 'show', `memory://${store}`, jobId, '--queue', queue],
    ['dead', 'show', `memory://${store}`, jobId, '--queue', queue, '--json'],
    ['dead', 'list', `memory://${store}`, '--queue', queue, '--json'],
  ]) {
    it(`${argv.slice(0, 2).join(' ')}${argv.includes('--json') ? ' --json' : ''} masks them`, async () => {
      const run = await runCaptured(argv);
      expect(run.code, run.err).toBe(0);
      for (const secret of secrets) {
        expect(run.out, `bgctl ${argv.join(' ')} printed ${secret}`).not.toContain(secret);
      }
      expect(run.out, 'what is not secret stays').toContain('visible-user-name');
      if (argv.includes('--json')) expect(() => JSON.parse(run.out), 'the --json output stays JSON').not.toThrow();
    });
  }
});

describe('secrets inside multi-line strings of a dead letter body (the dashboard masks them since 25cfcb3)', () => {
  // In the body's JSON text a string's line breaks are "\n": patterns that look for a line start
  // (X-Api-Key:, DB_PASSWORD=) did not see them in dead show (human) nor in --json's "body".
  const store = 'audit6-multiline';
  const queue = 'hooks';
  const jobId = id(602);
  beforeAll(async () => {
    const adapter = await openMemory(store);
    const body = JSON.stringify({
      rawHeaders: 'Host: api.example\r\nX-Api-Key: MLsecretA1\r\nCookie: sid=MLsecretA2\r\n',
      dotenv: 'DB_HOST=db\nDB_PASSWORD=MLsecretB1\nSTRIPE_SECRET_KEY=MLsecretB2',
    });
    await seedDeadBody(adapter, queue, jobId, body);
  });

  for (const argv of [
    ['dead', 'show', `memory://${store}`, jobId, '--queue', queue],
    ['dead', 'show', `memory://${store}`, jobId, '--queue', queue, '--json'],
    ['dead', 'list', `memory://${store}`, '--queue', queue, '--json'],
  ]) {
    it(`${argv.slice(0, 2).join(' ')}${argv.includes('--json') ? ' --json' : ''} masks them`, async () => {
      const run = await runCaptured(argv);
      expect(run.code, run.err).toBe(0);
      for (const secret of ['MLsecretA1', 'MLsecretA2', 'MLsecretB1', 'MLsecretB2']) {
        expect(run.out, `bgctl ${argv.join(' ')} printed ${secret}`).not.toContain(secret);
      }
      expect(run.out, 'what is not secret stays').toContain('DB_HOST=db');
    });
  }

  it('a body without secrets is given byte for byte in --json (not re-serialized)', async () => {
    const adapter = await openMemory(store);
    const plain = '{ "n": 12345678901234567890, "note": "caf\\u00e9" }';
    await seedDeadBody(adapter, 'plain', id(603), plain);
    const run = await runCaptured(['dead', 'show', `memory://${store}`, id(603), '--queue', 'plain', '--json']);
    expect(JSON.parse(run.out).body, 'the stored body, unchanged').toBe(plain);
  });
});

describe('dead list cuts a long error only after redacting it', () => {
  it('a URL password cut by the ERROR column is not shown in part (the start of it was)', async () => {
    const store = 'audit6-cut';
    const adapter = await openMemory(store);
    // Written by a producer or worker that did not redact (another tool, an older version).
    const error = 'upstream call number 42 refused: https://svc:CutSecretPassw0rd1234567890@api.example.com/v1 failed';
    await seedDeadBody(adapter, 'default', id(604), '{}', error);
    for (const argv of [
      ['dead', 'list', `memory://${store}`],
      ['dead', 'replay', `memory://${store}`, '--all', '--dry-run'],
    ]) {
      const run = await runCaptured(argv);
      expect(run.code, run.err).toBe(0);
      expect(run.out, `bgctl ${argv.join(' ')}: the row is there`).toContain('upstream call number 42');
      expect(run.out, `bgctl ${argv.join(' ')} printed the start of the password`).not.toMatch(/CutSecret/);
    }
  });
});

describe('third-party debug output (DEBUG=ioredis:*) on bgctl stderr', () => {
  // ioredis's debug log writes every command, AUTH/HELLO with the password included, straight to
  // process.stderr: around bgctl's scrubbing io.
  const password = 'audit6-Dbg-Pa55word';
  let secured: RedisServer | undefined;
  beforeAll(async () => {
    secured = await startRedis({ password });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it('never shows the password given in the URL or in $BG_URL', async (ctx) => {
    if (!secured) return ctx.skip();
    expect(secured.url, 'the harness URL carries the password').toContain(password);
    const byArg = await runBg(['stats', secured.url, '--queue', 'nothere'], { env: { DEBUG: 'ioredis:*' } });
    expect(byArg.stderr, 'the debug log is on (else this test proves nothing)').toMatch(/ioredis:redis write command/);
    expect(byArg.stderr, 'DEBUG=ioredis:* bgctl stats URL printed the password').not.toContain(password);
    expect(byArg.code, byArg.stderr).toBe(4);
    const byEnv = await runBg(['stats', '--queue', 'nothere', '--json'], { env: { DEBUG: 'ioredis:*', BG_URL: secured.url } });
    expect(byEnv.stderr, 'DEBUG=ioredis:* bgctl stats with $BG_URL printed the password').not.toContain(password);
    const errorLine = byEnv.stderr.split('\n').find((line) => line.startsWith('{')) ?? '';
    expect(JSON.parse(errorLine), 'the --json error is still one JSON object, on a line of its own').toMatchObject({
      error: { code: 'QUEUE_NOT_FOUND', exitCode: 4 },
    });
  });
});
