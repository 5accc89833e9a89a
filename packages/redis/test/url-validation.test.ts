import {
  type BadUrl,
  expectAdapterOrConfigError,
  expectConfigError,
  expectNoSecret,
  failureOf,
  urlRejectionTests,
} from '@bg/backends';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import { BgError, connect, isBgError } from '@bg/core';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fromUrl, parseRedisUrl, redisAdapter } from '../src/index.js';
import { maskCommand } from '../src/map-error.js';

const url = inject('redisUrl');
const passwordUrl = inject('passwordRedisUrl');
const SECRET = 'hunter2Secret';

describe('redis URLs are validated before anything connects', () => {
  const bad: readonly BadUrl[] = [
    [`redis://:${SECRET}@127.0.0.1:6379/abc`, /path must be a database number/],
    [`redis://:${SECRET}@127.0.0.1:6379/-1`, /path must be a database number/],
    [`redis://:${SECRET}@127.0.0.1:6379/1/2`, /path must be a database number/],
    [`redis://:${SECRET}@127.0.0.1:0`, /port/],
    [`redis://:${SECRET}@127.0.0.1:6379?prefx=bg`, /unknown parameter "prefx"/],
    [`redis://:${SECRET}@127.0.0.1:6379?prefix=a&prefix=b`, /"prefix" is given more than once/],
    [`redis://:${SECRET}@127.0.0.1:6379?prefix=bad%20prefix`, /"prefix" must be/],
    [`redis://:${SECRET}@127.0.0.1:6379?prefix=`, /"prefix" is empty/],
    [`redis://:${SECRET}@127.0.0.1:6379?family=5`, /"family" must be one of 4, 6/],
    [`redis://:${SECRET}@127.0.0.1:6379#frag`, /fragment/],
    [`redis://:${SECRET}@127.0.0.1:99999`, /not a URL/],
    // ioredis decodes the user information with decodeURIComponent: a bad escape was an
    // untyped URIError ("URI malformed", exit 1 in bgctl).
    [`redis://user:pa%zz${SECRET}@127.0.0.1:6390`, /malformed %-escape in the credentials/],
    [`redis://us%E0%A4er:${SECRET}@127.0.0.1:6390`, /malformed %-escape in the credentials/],
    [`rediss://:${SECRET}%@127.0.0.1:6390/1?prefix=app`, /malformed %-escape in the credentials/],
  ];
  for (const test of urlRejectionTests(bad, { secrets: [SECRET] })) it(test.name, test.run);

  it('redisAdapter({ url }) with a malformed %-escape in the credentials is INVALID_ARGUMENT, without the password', () => {
    let error: unknown;
    try {
      redisAdapter({ url: `redis://user:pa%zz${SECRET}@127.0.0.1:6390` });
    } catch (caught) {
      error = caught;
    }
    expect(isBgError(error, 'INVALID_ARGUMENT'), `redisAdapter({ url: bad escape }) threw ${String(error)}`).toBe(true);
    expect(String((error as Error).message)).toMatch(/malformed %-escape in the credentials/);
    expect(String((error as Error).message)).not.toContain(SECRET);
  });

  // ioredis took these as they came: a negative or string connectTimeoutMs threw from its timer
  // (the process died), NaN maxPayloadBytes let any body through, query parameters of `url`
  // became client options (?db=3 chose another database than the path, ?keyPrefix= split a
  // queue's keys), another scheme was tried as Redis.
  it.each([
    ['connectTimeoutMs', { connectTimeoutMs: -5 }],
    ['connectTimeoutMs', { connectTimeoutMs: '5s' }],
    ['maxPayloadBytes', { maxPayloadBytes: Number.NaN }],
    ['maxPayloadBytes', { maxPayloadBytes: '1mb' }],
    ['maxPayloadBytes', { maxPayloadBytes: 1e12 }],
    ['cluster', { cluster: [{ host: '127.0.0.1', port: 'x' }] }],
    ['onWarning', { onWarning: 5 }],
    ['parameter "db"', { url: `redis://:${SECRET}@127.0.0.1:6390?db=3` }],
    ['parameter "keyPrefix"', { url: `redis://:${SECRET}@127.0.0.1:6390?keyPrefix=zz` }],
    ['scheme', { url: `http://:${SECRET}@127.0.0.1:6390` }],
    ['prefix', { url: 'redis://127.0.0.1:6390?prefix=app', prefix: 'other' }],
  ])('redisAdapter(%s bad) is INVALID_ARGUMENT at once, naming it', (name, bad) => {
    let error: unknown;
    try {
      redisAdapter({ onWarning: () => {}, ...(bad as object) });
    } catch (caught) {
      error = caught;
    }
    const call = `redisAdapter(${JSON.stringify(bad).replace(SECRET, '…')})`;
    expect(isBgError(error, 'INVALID_ARGUMENT'), `${call} must throw INVALID_ARGUMENT, threw ${String(error)}`).toBe(true);
    expect(String((error as Error).message), `${call}: the message names the option`).toContain(name);
    expect(String((error as Error).message), `${call}: the message hides the password`).not.toContain(SECRET);
  });

  it("redisAdapter({ url: '…?prefix=app' }) uses the prefix, as connect() does", async () => {
    const adapter = redisAdapter({ url: 'redis://127.0.0.1:6390/2?prefix=app' });
    expect(adapter.keys('jobs').stream, 'the keys of queue jobs').toBe('{app:jobs}:s');
    await adapter.close();
  });

  it('a receive whose signal is already aborted returns [] at once, before connecting (nothing listens on port 1)', async () => {
    const adapter = redisAdapter({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 3_000 });
    try {
      const start = Date.now();
      const got = await adapter.receive('jobs', { max: 1, leaseMs: 30_000, waitMs: 15_000, signal: AbortSignal.abort() });
      expect({ got, fast: Date.now() - start < 500 }, 'receive(signal already aborted): [] within 500 ms').toEqual({
        got: [],
        fast: true,
      });
    } finally {
      await adapter.close();
    }
  });

  it('accepts the documented forms', () => {
    expect(parseRedisUrl(new URL('redis://127.0.0.1:6379'))).toEqual({ db: 0, clientUrl: 'redis://127.0.0.1:6379' });
    expect(parseRedisUrl(new URL('rediss://u:p@h:1/15?prefix=app&family=6'))).toEqual({
      db: 15,
      prefix: 'app',
      clientUrl: 'rediss://u:p@h:1/15?family=6',
    });
  });
});

// A private server: the first case counts every key of db 0, which other files writing to the
// shared server at the same time would change.
describe.skipIf(!url)('redis database selection against a real server', () => {
  let server: RedisServer | undefined;
  let dbUrl = '';
  beforeAll(async () => {
    server = await startRedis();
    dbUrl = (server as RedisServer).url;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a database the server does not have is INVALID_ARGUMENT at first use, and nothing is written to db 0', async () => {
    const admin = new Redis(dbUrl);
    try {
      const before = await admin.dbsize();
      const adapter = await connect(`${dbUrl}/99?prefix=db99`);
      try {
        const rule = { names: /database 99/, secrets: [SECRET] };
        expectConfigError(await failureOf(() => adapter.ensureQueue('db99')), 'ensureQueue on redis://…/99', rule);
        expectConfigError(await failureOf(() => adapter.stats('db99')), 'stats on redis://…/99', rule);
      } finally {
        await adapter.close();
      }
      expect(await admin.keys('{db99:*'), 'keys written to db 0 for a failed SELECT').toEqual([]);
      expect(await admin.dbsize(), 'db 0 untouched').toBe(before);
    } finally {
      await admin.quit();
    }
  });

  it('a database in range is the one used', async () => {
    const adapter = await connect(`${dbUrl}/3?prefix=db3`);
    const admin = new Redis(dbUrl);
    try {
      await adapter.ensureQueue('db3');
      await admin.select(3);
      expect(await admin.exists('{db3:db3}:s'), 'stream in db 3').toBe(1);
      await admin.select(0);
      expect(await admin.exists('{db3:db3}:s'), 'nothing in db 0').toBe(0);
    } finally {
      await adapter.close();
      await admin.quit();
    }
  });
});

describe.skipIf(!passwordUrl)('redis credentials never printed', () => {
  it('a wrong password is AUTH_FAILED without the password anywhere in the error', async () => {
    const wrong = new URL(passwordUrl as string);
    wrong.password = SECRET;
    const adapter = await connect(wrong.toString());
    try {
      const error = await failureOf(() => adapter.stats('auth-check'));
      expect(isBgError(error, 'AUTH_FAILED'), `stats with a wrong password: ${String(error)}`).toBe(true);
      expect((error as BgError).retryable, 'AUTH_FAILED is not retryable').toBe(false);
      expectNoSecret(error, 'the wrong password', [SECRET]);
      // The right password never shows either.
      expectNoSecret(error, 'the server password', ['s3cret']);
    } finally {
      await adapter.close();
    }
  });
});

describe('the arguments of a credential command ioredis keeps on its error', () => {
  it('are masked before the error becomes a cause (a CLOSED error made during a failed AUTH included)', () => {
    for (const name of ['auth', 'AUTH', 'hello', 'migrate']) {
      const reply = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
        command: { name, args: name === 'hello' ? ['3', 'AUTH', 'app', SECRET] : ['app', SECRET] },
      });
      const error = new BgError('CLOSED', 'the redis adapter is closed', { cause: maskCommand(reply) });
      expectNoSecret(error, `a CLOSED error caused by ${name}`, [SECRET]);
    }
    const get = Object.assign(new Error('WRONGTYPE'), { command: { name: 'get', args: ['key'] } });
    expect((maskCommand(get) as typeof get).command.args, 'other commands keep their arguments').toEqual(['key']);
  });
});

describe('property: any redis URL gives an adapter or a typed error, never a crash or a leak', () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9]{12,20}$/).map((s) => `Zz${s}`);
  const piece = fc.oneof(
    fc.constantFrom('', '/', '/0', '/15', '/abc', '/-1', '/99999999999', '/1/2', '/%41'),
    fc.string({ maxLength: 6 }).map((s) => `/${encodeURIComponent(s)}`),
  );
  const port = fc.oneof(
    fc.constantFrom('', ':6379', ':0', ':65535', ':65536', ':99999', ':x'),
    fc.nat(70_000).map((n) => `:${n}`),
  );
  const query = fc.array(
    fc.tuple(fc.constantFrom('prefix', 'family', 'db', 'password', 'prefx', ''), fc.string({ maxLength: 8 })),
    { maxLength: 3 },
  );
  const scheme = fc.constantFrom('redis', 'rediss');
  it('holds for generated URLs', async () => {
    await fc.assert(
      fc.asyncProperty(scheme, secret, port, piece, query, async (s, pw, p, path, params) => {
        const q = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        const text = `${s}://user:${pw}@127.0.0.1${p}${path}${q ? `?${q}` : ''}`;
        await expectAdapterOrConfigError(() => connect(text), `connect(${text.replace(pw, '…')})`, {
          names: /redis URL|not a URL/,
          secrets: [pw],
        });
      }),
      { numRuns: 150, seed: Number(process.env.FC_SEED ?? 20_261_129), interruptAfterTimeLimit: 20_000 },
    );
  });

  it('fromUrl never throws anything but BgError', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (web) => {
        const u = new URL(web.replace(/^https?:/, 'redis:'));
        try {
          void fromUrl(u).close();
        } catch (error) {
          expect(isBgError(error, 'INVALID_ARGUMENT'), `fromUrl(${u}) threw ${String(error)}`).toBe(true);
        }
      }),
      { numRuns: 100, seed: Number(process.env.FC_SEED ?? 20_261_129) },
    );
  });
});
