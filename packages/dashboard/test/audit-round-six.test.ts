import { memoryAdapter } from '@bg/memory';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createDashboard } from '../src/index.js';
import { Browserless, serve } from './helpers.js';

/** What the sixth outside audit of the dashboard found; each test failed on the code before its fix. */

const TOKEN = 'correct-horse-battery-staple';

describe('secrets held in lists or objects under a secret name, on the dead-letter detail page', () => {
  const adapter = memoryAdapter();
  afterAll(() => adapter.close());

  it('masks a JWK under privateKey, apiKeys: [...] and password: [...] whole (only strings and numbers were)', async () => {
    await adapter.ensureQueue('creds');
    const body = JSON.stringify({
      bg: 1,
      id: 'creds-1',
      type: 'creds.rotate',
      v: 1,
      payload: {
        user: 'visible-user-name',
        apiKeys: ['LIVEKEYaaaa1111'],
        privateKey: { kty: 'RSA', n: 'modulus', d: 'JWKprivateDddd2222' },
        password: ['hunter2-in-a-list'],
        auth: { scheme: 'custom', value: 'NESTEDtoken3333' },
        tokens: [],
      },
      createdAt: new Date().toISOString(),
    });
    await adapter.send('creds', [{ id: 'creds-1', body, attributes: { 'bg-type': 'creds.rotate' } }]);
    const [message] = await adapter.receive('creds', { max: 1, leaseMs: 60_000 });
    if (!message) throw new Error('the job was not received');
    await adapter.deadLetter('creds', message, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
    await adapter.ack('creds', message.handle);
    const app = await serve(createDashboard({ backends: [{ name: 'mem', adapter }] }));
    try {
      const detail = await new Browserless(app.url).page('/b/0/q/creds/dead/creds-1');
      expect(detail.status, 'GET the detail page').toBe(200);
      for (const secret of ['LIVEKEYaaaa1111', 'JWKprivateDddd2222', 'hunter2-in-a-list', 'NESTEDtoken3333']) {
        expect(detail.text, `the detail page shows ${secret}, held in a list or object under a secret name`).not.toContain(
          secret,
        );
      }
      expect(detail.text, 'what is not secret stays').toContain('visible-user-name');
    } finally {
      await app.stop();
    }
  });
});

describe('the login cookie set by ?token=', () => {
  const adapter = memoryAdapter();
  afterAll(() => adapter.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  /** The login cookie (name and value) and its Set-Cookie line, after a ?token= login. */
  async function login(client: Browserless): Promise<{ name: string; value: string; line: string }> {
    const res = await client.request(`/?token=${TOKEN}`);
    expect(res.status, '?token= → 303').toBe(303);
    const line = res.headers.getSetCookie().find((c) => c.startsWith('bg_dash_') && !c.startsWith('bg_dash_sid')) ?? '';
    const [name = '', value = ''] = (line.split(';')[0] ?? '').split('=');
    expect(name, `a login cookie was set (${res.headers.getSetCookie().join(' | ')})`).not.toBe('');
    return { name, value, line };
  }

  it('ends: a Max-Age in the browser, and a cookie older than that is refused by the dashboard (it was valid for ever)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-05T08:00:00Z') });
    const app = await serve(createDashboard({ backends: [{ name: 'mem', adapter }], token: TOKEN }));
    try {
      const client = new Browserless(app.url);
      const cookie = await login(client);
      const maxAge = Number(/;\s*Max-Age=(\d+)/i.exec(cookie.line)?.[1]);
      expect(
        maxAge,
        `the login cookie has no Max-Age: a browser restoring its session keeps it for ever (${cookie.line})`,
      ).toBeGreaterThan(0);
      expect(maxAge, 'at most a day').toBeLessThanOrEqual(86_400);
      expect((await client.request('/')).status, 'with the fresh cookie → 200').toBe(200);
      // A copy of the cookie (a backup of a browser profile, a shared machine) replayed later.
      vi.setSystemTime(Date.now() + maxAge * 1_000 + 1_000);
      const replayed = new Browserless(app.url);
      replayed.cookies.set(cookie.name, cookie.value);
      expect(
        (await replayed.request('/')).status,
        'the login cookie is still accepted after its Max-Age: its value never changed, so a copy worked for ever',
      ).toBe(401);
      // A new login works, and yields another value.
      const again = await login(new Browserless(app.url));
      expect(again.value, 'each login gets a value of its own time').not.toBe(cookie.value);
    } finally {
      await app.stop();
    }
  });

  it('refuses a cookie dated in the future or altered', async () => {
    const app = await serve(createDashboard({ backends: [{ name: 'mem', adapter }], token: TOKEN }));
    try {
      const cookie = await login(new Browserless(app.url));
      const [issued, mac] = cookie.value.split('.');
      for (const value of [
        `${Number(issued) + 86_400}.${mac}`,
        `${issued}.${mac?.startsWith('A') ? 'B' : 'A'}${mac?.slice(1)}`,
        `${issued}`,
        `.${mac}`,
        '',
      ]) {
        const forged = new Browserless(app.url);
        forged.cookies.set(cookie.name, value);
        expect((await forged.request('/')).status, `login cookie value "${value}" accepted`).toBe(401);
      }
    } finally {
      await app.stop();
    }
  });
});

describe('a large dead letter (~10 MB: a Pub/Sub message near its limit, Redis or PostgreSQL with maxPayloadBytes raised)', () => {
  const adapter = memoryAdapter({ capabilities: { maxPayloadBytes: 16 * 1024 * 1024 } });
  afterAll(() => adapter.close());

  it('opens its detail page (it was a 500 "Maximum call stack size exceeded" from the redaction)', async () => {
    await adapter.ensureQueue('big');
    const blob = 'x'.repeat(10_500_000);
    await adapter.send('big', [{ id: 'big-1', body: JSON.stringify({ password: 'LARGEsecret1', blob }), attributes: {} }]);
    const [message] = await adapter.receive('big', { max: 1, leaseMs: 60_000 });
    if (!message) throw new Error('the job was not received');
    await adapter.deadLetter('big', message, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
    await adapter.ack('big', message.handle);
    const app = await serve(createDashboard({ backends: [{ name: 'mem', adapter }] }));
    try {
      const detail = await new Browserless(app.url).page('/b/0/q/big/dead/big-1');
      expect(
        detail.status,
        `GET the detail page of a 10 MB dead letter: ${/role="alert"[^>]*>([^<]*)/.exec(detail.text)?.[1]}`,
      ).toBe(200);
      expect(detail.text, 'its body is shown').toContain(blob);
      expect(detail.text, 'and its secret masked').not.toContain('LARGEsecret1');
    } finally {
      await app.stop();
    }
  });
});
