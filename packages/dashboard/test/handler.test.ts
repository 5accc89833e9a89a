import { request as httpRequest } from 'node:http';
import { createQueue, defineJob } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { BackendHandle } from '../src/backend-handle.js';
import {
  accessDecision,
  CONTENT_SECURITY_POLICY,
  createDashboard,
  decodeCursor,
  encodeCursor,
  scanDeadLetters,
} from '../src/index.js';
import { Poller } from '../src/poller.js';
import { Browserless, hiddenFields, seedDeadLetters, serve } from './helpers.js';

const welcome = defineJob({ type: 'email.welcome', version: 1, schema: z.object({ userId: z.string() }) });
const TOKEN = 'correct-horse-battery';

describe('accessDecision (who may use the dashboard)', () => {
  const base = {
    remoteAddress: '127.0.0.1',
    host: '127.0.0.1:7070',
    tokenConfigured: false,
    token: 'none',
    hasAuthHook: false,
  } as const;
  it('serves loopback clients addressing a loopback host without a token', () => {
    expect(accessDecision(base).kind, 'loopback + loopback Host, no token → allow').toBe('allow');
    expect(accessDecision({ ...base, remoteAddress: '::ffff:127.0.0.1', host: 'localhost:1' }).kind, 'mapped IPv4 loopback').toBe(
      'allow',
    );
  });
  it('refuses other clients, and DNS-rebinding Host headers, when no token or hook is configured', () => {
    expect(accessDecision({ ...base, remoteAddress: '10.0.0.7' }), 'remote client, no token → 403').toMatchObject({
      kind: 'deny',
      status: 403,
    });
    expect(accessDecision({ ...base, host: 'evil.example:7070' }), 'loopback client, foreign Host → 403').toMatchObject({
      kind: 'deny',
      status: 403,
    });
    // nginx on the same machine: loopback address, and proxy_pass's own loopback Host by default.
    expect(
      accessDecision({ ...base, proxied: true }),
      'a request through a reverse proxy on this machine (loopback address and Host), no token → 403',
    ).toMatchObject({ kind: 'deny', status: 403, message: expect.stringMatching(/proxy/) });
    expect(accessDecision({ ...base, proxied: true, tokenConfigured: true, token: 'valid' }).kind, 'proxied, valid token').toBe(
      'allow',
    );
  });
  it('requires a configured token from everyone, then asks the hook when there is one', () => {
    const withToken = { ...base, tokenConfigured: true };
    expect(accessDecision(withToken), 'token configured, none given → 401').toMatchObject({ kind: 'deny', status: 401 });
    expect(accessDecision({ ...withToken, token: 'invalid' }), 'wrong token → 401').toMatchObject({ kind: 'deny', status: 401 });
    expect(
      accessDecision({ ...withToken, token: 'valid', remoteAddress: '10.0.0.7', host: 'x' }).kind,
      'valid token, remote',
    ).toBe('allow');
    expect(accessDecision({ ...withToken, token: 'valid', hasAuthHook: true }).kind, 'valid token + hook').toBe('ask-hook');
    expect(accessDecision({ ...base, remoteAddress: '10.0.0.7', hasAuthHook: true }).kind, 'hook replaces loopback rule').toBe(
      'ask-hook',
    );
  });
});

describe('createDashboard request handler (memory adapter, no browser)', () => {
  const adapter = memoryAdapter();
  let app: Awaited<ReturnType<typeof serve>>;
  let dead: string[] = [];

  beforeAll(async () => {
    dead = await seedDeadLetters(adapter, 'emails', 30, {
      type: 'email.welcome',
      reason: 'max-attempts',
      message: 'SMTP 451 greylisted',
    });
    await seedDeadLetters(adapter, 'emails', 5, {
      type: 'image.thumbnail',
      reason: 'permanent-error',
      message: 'cannot read HEIC',
    });
    app = await serve(
      createDashboard({
        backends: [{ name: 'redis://:hunter2@db.internal:6379', adapter }],
        jobs: [welcome],
        sampleIntervalMs: 2_000,
      }),
    );
  });
  afterAll(async () => {
    await app.stop();
    await adapter.close();
  });

  it('serves the overview with counts, security headers and the backend name redacted', async () => {
    const client = new Browserless(app.url);
    const res = await client.request('/');
    const text = await res.text();
    expect(res.status, 'GET / status').toBe(200);
    expect(res.headers.get('content-security-policy'), 'CSP header').toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-frame-options'), 'X-Frame-Options').toBe('DENY');
    expect(res.headers.get('cache-control'), 'pages are no-store').toBe('no-store');
    expect(text, 'the password in the backend name never reaches the page').not.toContain('hunter2');
    expect(text, 'redacted name shown').toContain('redis://:***@db.internal:6379');
    expect(text, 'dead count of emails (35) in the table').toMatch(/data-count="dead"><a [^>]*>35</);
    expect(text, 'no inline script').not.toMatch(/<script>(?!<\/script>)|<script(?![^>]*src=)/);
    // A reverse proxy on this machine (nginx: loopback address, its proxy_pass Host) is no loopback client.
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const proxied = await fetch(`${app.url}/`, {
        headers: { [header]: header === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9' },
      });
      expect(
        proxied.status,
        `GET / with ${header} (through a proxy), no token: the dashboard must refuse, not serve the network`,
      ).toBe(403);
      expect(await proxied.text(), 'the refusal says why').toContain('proxy');
    }
  });

  it('answers bad input with 400 and a message naming the field', async () => {
    const client = new Browserless(app.url);
    const cases: [string, RegExp][] = [
      ['/b/0/q/NOT_A_QUEUE/dead', /queue: &quot;NOT_A_QUEUE&quot; is not a queue name/],
      ['/b/0/q/emails/dead?reason=bored', /reason: &quot;bored&quot; is not one of/],
      ['/b/0/q/emails/dead?limit=5000', /limit: must be an integer from 1 to 200/],
      ['/b/0/q/emails/dead?limit=0x10', /limit: must be an integer from 1 to 200/],
      ['/b/0/q/emails/dead?limit=1e2', /limit: must be an integer from 1 to 200/],
      ['/b/0/q/emails/dead?older=yesterday', /older than: &quot;yesterday&quot; is not a duration/],
      ['/b/0/q/emails/dead?cursor=@@@', /cursor: not a cursor of this dashboard/],
    ];
    for (const [path, message] of cases) {
      const page = await client.page(path);
      expect(page.status, `GET ${path} status`).toBe(400);
      expect(page.text, `GET ${path} message`).toMatch(message);
    }
    expect((await client.page('/b/7/q/emails')).status, 'unknown backend index → 404').toBe(404);
    expect((await client.page('/b/0/q/nowhere-queue')).status, 'unknown queue → 404').toBe(404);
  });

  it('pages through dead letters with a filter, never past its scan budget', async () => {
    const client = new Browserless(app.url);
    const first = await client.page('/b/0/q/emails/dead?limit=25');
    expect(first.status, 'dead list status').toBe(200);
    expect(first.text.match(/name="id" value=/g)?.length, 'first page holds 25 rows').toBe(25);
    const next = /href="([^"]+)" rel="next"/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    expect(next, 'a next link').toBeDefined();
    const second = await client.page(next as string);
    expect(second.text.match(/name="id" value=/g)?.length, 'second page holds the other 10').toBe(10);
    const filtered = await client.page('/b/0/q/emails/dead?reason=permanent-error&text=heic');
    expect(filtered.text.match(/name="id" value=/g)?.length, 'reason + error text filter → the 5 thumbnails').toBe(5);
    expect(filtered.text, 'the scan is reported').toMatch(/filtered while paging: 35 read/);

    const bounded = await scanDeadLetters(
      adapter,
      'emails',
      { types: ['nothing.matches'] },
      { cursor: {}, limit: 10, budget: 1 },
    );
    expect(bounded, 'scanDeadLetters stops at its budget on a non-matching filter').toMatchObject({
      items: [],
      budgetHit: false,
    });
    // The adapter's own order (oldest first, ties by id), not the order they were seeded in.
    const head = await scanDeadLetters(adapter, 'emails', {}, { cursor: {}, limit: 5 });
    expect(head.items, 'an unfiltered scan of five').toHaveLength(5);
    const third = head.items[2] as (typeof head.items)[number];
    const midPage = await scanDeadLetters(
      adapter,
      'emails',
      {},
      {
        cursor: decodeCursor(encodeCursor({ after: { deadLetteredAt: third.deadLetteredAt, id: third.id } })),
        limit: 2,
      },
    );
    expect(
      midPage.items.map((d) => d.id),
      'a cursor resumes inside an adapter page, after the last one shown',
    ).toEqual(head.items.slice(3, 5).map((d) => d.id));
    // The next page of the first two, after those two were purged: it must still start at the third.
    await seedDeadLetters(adapter, 'paging', 6, { type: 'email.welcome', reason: 'max-attempts', message: 'x' });
    const all = await scanDeadLetters(adapter, 'paging', {}, { cursor: {}, limit: 6 });
    const firstTwo = await scanDeadLetters(adapter, 'paging', {}, { cursor: {}, limit: 2 });
    await adapter.purgeDeadLetters(
      'paging',
      firstTwo.items.map((d) => d.id),
    );
    const afterPurge = await scanDeadLetters(adapter, 'paging', {}, { cursor: firstTwo.next ?? {}, limit: 2 });
    expect(
      afterPurge.items.map((d) => d.id),
      'the next page after the shown ones were purged (a count-based cursor skipped two)',
    ).toEqual(all.items.slice(2, 4).map((d) => d.id));
  });

  it('shows a dead letter whose id has spaces or other scripts, and masks attributes named like secrets', async () => {
    await adapter.ensureQueue('oddities');
    // "action" is also the path of the actions; a lone surrogate cannot be written in a URL.
    const ids = ['id with space', 'ünïcode-id', 'action'];
    const body = '{"payload":{"orderId":12345678901234567890,"amount":0.10000000000000000555}}';
    await adapter.send('oddities', [
      ...ids.map((id) => ({ id, body, attributes: { password: 'AttrPw789', 'x-api-key': 'AttrKeyABC', region: 'eu' } })),
      { id: 'lone-\ud800-surrogate', body: '{}', attributes: {} },
    ]);
    const got = await adapter.receive('oddities', { max: 10, leaseMs: 60_000 });
    for (const message of got) {
      await adapter.deadLetter('oddities', message, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
      await adapter.ack('oddities', message.handle);
    }
    const client = new Browserless(app.url);
    for (const id of ids) {
      const detail = await client.page(`/b/0/q/oddities/dead/${encodeURIComponent(id)}`);
      expect(
        detail.status,
        `detail page of ${JSON.stringify(id)} (it was 400 "is not a job id" for spaces, 405 for the id "action")`,
      ).toBe(200);
      expect(detail.text, 'attribute values named like secrets').not.toMatch(/AttrPw789|AttrKeyABC/);
      expect(detail.text, 'other attribute values').toContain('>eu<');
      expect(
        detail.text,
        `GET /dead/${id}: the envelope keeps the stored digits of 12345678901234567890 (re-parsed, it showed …567000)`,
      ).toMatch(/12345678901234567890[\s\S]*0\.10000000000000000555/);
    }
    const list = await client.page('/b/0/q/oddities/dead');
    expect(list.status, 'GET /dead of a queue holding an id with a lone surrogate (it was a 500 "URI malformed")').toBe(200);
    expect(list.text.match(/name="id" value=/g)?.length, 'every dead letter listed, the lone-surrogate one too').toBe(4);
  });

  it('masks secrets inside multi-line strings of a dead letter body (raw headers, a .env file) on its detail page', async () => {
    await adapter.ensureQueue('multiline');
    const strings = JSON.stringify({
      rawHeaders: 'Host: api.example\r\nX-Api-Key: SECRETA1\r\nCookie: sid=SECRETA2\r\n',
      dotenv: 'DB_HOST=db\nDB_PASSWORD=SECRETB1\nSTRIPE_SECRET_KEY=SECRETB2',
    });
    // Written out by hand: the number has more digits than a double keeps.
    const body = `${strings.slice(0, -1)},"nested":[{"password":"SECRETC1","n":12345678901234567890}]}`;
    await adapter.send('multiline', [{ id: 'multi-1', body, attributes: {} }]);
    const [message] = await adapter.receive('multiline', { max: 1, leaseMs: 60_000 });
    if (!message) throw new Error('the job was not received');
    await adapter.deadLetter('multiline', message, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
    await adapter.ack('multiline', message.handle);
    const detail = await new Browserless(app.url).page('/b/0/q/multiline/dead/multi-1');
    expect(detail.status, 'GET the detail page').toBe(200);
    for (const secret of ['SECRETA1', 'SECRETA2', 'SECRETB1', 'SECRETB2', 'SECRETC1']) {
      expect(detail.text, `the detail page shows ${secret} (masked in the JSON text, its line breaks were \\n)`).not.toContain(
        secret,
      );
    }
    expect(detail.text, 'what is not secret stays').toContain('DB_HOST=db');
    expect(detail.text, 'numbers keep their stored digits').toContain('12345678901234567890');
  });

  it('two dashboards on one host each have a session cookie of their own (one replaced the other and broke its forms)', async () => {
    const other = await serve(createDashboard({ backends: [{ name: 'mem', adapter }] }));
    try {
      const names = await Promise.all(
        [app.url, other.url].map(async (url) => {
          const res = await fetch(`${url}/`);
          return res.headers.getSetCookie().map((c) => c.slice(0, c.indexOf('=')));
        }),
      );
      expect(names[0]?.length, 'the first dashboard sets a session cookie').toBeGreaterThan(0);
      expect(
        names[0]?.filter((n) => names[1]?.includes(n)),
        'cookie names both dashboards set',
      ).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it('refuses mutations without the CSRF value, and confirms before acting', async () => {
    const client = new Browserless(app.url);
    const { csrf } = await client.page('/b/0/q/emails/dead');
    expect(csrf, 'the dead list carries a CSRF value').toBeDefined();
    const target = dead[0] as string;
    const noCsrf = await client.post('/b/0/q/emails/dead/action', { op: 'purge-one', id: target, confirm: 'yes' });
    expect(noCsrf.status, 'POST without _csrf → 403').toBe(403);
    const stranger = new Browserless(app.url);
    await stranger.page('/');
    const foreign = await stranger.post('/b/0/q/emails/dead/action', {
      _csrf: csrf as string,
      op: 'purge-one',
      id: target,
      confirm: 'yes',
    });
    expect(foreign.status, "another session's CSRF value → 403").toBe(403);
    const crossSite = await client.request('/b/0/q/emails/dead/action', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ _csrf: csrf as string, op: 'purge-one', id: target, confirm: 'yes' }),
    });
    expect(crossSite.status, 'cross-origin POST → 403').toBe(403);
    expect(await adapter.getDeadLetter('emails', target), 'nothing was purged by refused requests').toBeDefined();

    const confirm = await client.post('/b/0/q/emails/dead/action', { _csrf: csrf as string, op: 'purge-one', id: target });
    expect(confirm.status, 'first POST → confirmation page').toBe(200);
    expect(await confirm.text(), 'confirmation asks').toContain(`Purge dead letter ${target}`);
    expect(await adapter.getDeadLetter('emails', target), 'not purged before confirmation').toBeDefined();
    const done = await client.post('/b/0/q/emails/dead/action', {
      _csrf: csrf as string,
      op: 'purge-one',
      id: target,
      confirm: 'yes',
    });
    expect(done.status, 'the confirmed action answers with a redirect to its result (Post/Redirect/Get)').toBe(303);
    const resultPath = done.headers.get('location') ?? '';
    expect(resultPath, 'the result page').toMatch(/^\/b\/0\/q\/emails\/dead\/action\?result=[\w-]+$/);
    expect(await adapter.getDeadLetter('emails', target), 'purged after confirmation').toBeUndefined();
    const shown = await client.page(resultPath);
    expect(shown.text, 'result summary').toContain('Purged 1 of 1 dead letter(s)');
    expect((await client.page(resultPath)).text, 'a reload shows the same result (it does not act again)').toContain(
      'Purged 1 of 1 dead letter(s)',
    );
    expect((await stranger.page(resultPath)).status, "another session cannot read this session's result").toBe(404);
    expect((await client.page('/b/0/q/emails/dead/action?result=nope')).text, 'an unknown result').toContain('no longer kept');

    const bad = await client.post('/b/0/q/emails/dead/action', { _csrf: csrf as string, op: 'explode-all' });
    expect(bad.status, 'unknown op → 400').toBe(400);
    const none = await client.post('/b/0/q/emails/dead/action', { _csrf: csrf as string, op: 'replay-selected' });
    expect(await none.text(), 'replay-selected with nothing selected → message').toContain('select at least one dead letter');
  });

  it('enqueues through the form only with a payload valid for the job schema', async () => {
    const client = new Browserless(app.url);
    const { csrf } = await client.page('/b/0/q/emails/enqueue');
    const notJson = await client.post('/b/0/q/emails/enqueue', {
      _csrf: csrf as string,
      type: 'email.welcome',
      payload: '{oops',
    });
    expect(notJson.status, 'non-JSON payload → 400').toBe(400);
    expect(await notJson.text(), 'says why').toContain('payload: not JSON');
    const invalid = await client.post('/b/0/q/emails/enqueue', {
      _csrf: csrf as string,
      type: 'email.welcome',
      payload: '{"userId":7}',
    });
    expect(invalid.status, 'schema violation → 400').toBe(400);
    expect(await invalid.text(), 'typed error code shown').toContain('INVALID_PAYLOAD');
    const unknown = await client.post('/b/0/q/emails/enqueue', { _csrf: csrf as string, type: 'no.such', payload: '{}' });
    expect(await unknown.text(), 'unknown type → message').toContain('is not a job type of the module');
    const before = (await adapter.stats('emails')).ready;
    const ok = await client.post('/b/0/q/emails/enqueue', {
      _csrf: csrf as string,
      type: 'email.welcome',
      payload: '{"userId":"u1"}',
    });
    expect(ok.status, 'valid payload → a redirect to the result (Post/Redirect/Get)').toBe(303);
    const resultPath = ok.headers.get('location') ?? '';
    expect(resultPath, 'the result page').toMatch(/^\/b\/0\/q\/emails\/enqueue\?result=[\w-]+$/);
    const shown = await client.page(resultPath);
    expect(shown.text, 'enqueued id shown').toMatch(/data-enqueued="[0-9a-f-]{36}"/);
    expect(shown.text, 'the form keeps what was sent').toContain('{&quot;userId&quot;:&quot;u1&quot;}');
    await client.page(resultPath);
    expect((await adapter.stats('emails')).ready, 'one more ready job, however often the result page is reloaded').toBe(
      (before ?? 0) + 1,
    );

    // One form sent twice at once (a double click, a resubmission): one job, one result for both.
    const form = hiddenFields((await client.page('/b/0/q/emails/enqueue')).text);
    expect(form._once, 'the enqueue form carries a one-time value').toBeDefined();
    const twice = { ...form, type: 'email.welcome', payload: '{"userId":"twice"}' };
    const [first, second] = await Promise.all([
      client.post('/b/0/q/emails/enqueue', twice),
      client.post('/b/0/q/emails/enqueue', twice),
    ]);
    expect(
      (await adapter.stats('emails')).ready,
      'POST /enqueue twice with one _once value: one job (a double click enqueued two)',
    ).toBe((before ?? 0) + 2);
    expect(second.headers.get('location'), 'the second POST is sent to the result of the first').toBe(
      first.headers.get('location'),
    );
  });

  it('acts only on the dead letters there when "all" was confirmed, and says how many', async () => {
    await seedDeadLetters(adapter, 'scope-queue', 3, { type: 'email.welcome', reason: 'max-attempts', message: 'x' });
    const client = new Browserless(app.url);
    const { csrf } = await client.page('/b/0/q/scope-queue/dead');
    const confirm = await (
      await client.post('/b/0/q/scope-queue/dead/action', { _csrf: csrf as string, op: 'purge-filtered' })
    ).text();
    expect(confirm, 'the confirmation counts what it will purge').toContain('Purge all 3 dead letter(s) of this queue');
    // Later by the clock, not only in order: ids made in one millisecond do not sort by creation.
    const confirmedAt = Date.now();
    await vi.waitFor(() => expect(Date.now(), 'a millisecond after the confirmation').toBeGreaterThan(confirmedAt));
    const later = await seedDeadLetters(adapter, 'scope-queue', 2, {
      type: 'email.welcome',
      reason: 'max-attempts',
      message: 'x',
    });
    const done = await client.post('/b/0/q/scope-queue/dead/action', hiddenFields(confirm));
    const result = await client.page(done.headers.get('location') ?? '');
    expect(result.text, 'purge-filtered confirmed for 3, two more came before "Yes"').toContain('Purged 3 of 3 dead letter(s)');
    expect(
      (await adapter.listDeadLetters('scope-queue', { limit: 10 })).items.map((d) => d.id).sort(),
      'the two that came after the confirmation are left (they were purged unseen)',
    ).toEqual([...later].sort());
  });
});

describe('token, auth hook and read-only mode', () => {
  const adapter = memoryAdapter();
  afterAll(() => adapter.close());

  it('trades ?token= for a cookie, accepts a bearer header, refuses everything else', async () => {
    await createQueue({ adapter, queue: 'default' }).enqueue(welcome, { userId: 'u1' });
    const app = await serve(createDashboard({ backends: [{ name: 'mem', adapter }], token: TOKEN }));
    try {
      const client = new Browserless(app.url);
      expect((await client.request('/')).status, 'no token → 401').toBe(401);
      expect((await client.request('/?token=wrong-token-value')).status, 'wrong token → 401').toBe(401);
      const exchange = await client.request(`/b/0/q/default?token=${TOKEN}`);
      expect(exchange.status, '?token= → 303').toBe(303);
      expect(exchange.headers.get('location'), 'redirect drops the token').toBe('/b/0/q/default');
      const setCookie = exchange.headers.get('set-cookie') ?? '';
      const tokenCookie = [...client.cookies.entries()].find(
        ([name]) => name.startsWith('bg_dash_') && !name.startsWith('bg_dash_sid'),
      );
      expect(tokenCookie, `token cookie set (${setCookie})`).toBeDefined();
      expect(
        tokenCookie?.[1],
        'the cookie holds a value derived from the token, not the token (cookies reach every port)',
      ).not.toContain(TOKEN);
      expect(setCookie, 'SameSite=Lax: a link from another site keeps the login').toContain('SameSite=Lax');
      expect((await client.request('/')).status, 'with the cookie → 200').toBe(200);
      const forged = new Browserless(app.url);
      forged.cookies.set(tokenCookie?.[0] ?? 'bg_dash_token', TOKEN);
      expect((await forged.request('/')).status, 'the raw token as the cookie value is not a login').toBe(401);
      // Sent as written ("/./" would be resolved away by fetch): the path becomes "//evil.example/x".
      const location = await new Promise<string | undefined>((resolve, reject) => {
        const req = httpRequest(`${app.url}/`, { path: `/.//evil.example/x?token=${TOKEN}` }, (res) => {
          res.resume();
          resolve(res.headers.location);
        });
        req.on('error', reject);
        req.end();
      });
      expect(location, 'the redirect after ?token= stays on this site (it went to //evil.example/x)').toBe('/evil.example/x');
      const garbageOrigin = await fetch(`${app.url}/b/0/q/default/dead/action`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, origin: 'garbage', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'op=purge-filtered',
      });
      expect(garbageOrigin.status, 'a malformed Origin header is refused (it was a 500)').toBe(403);
      const bearer = await fetch(`${app.url}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(bearer.status, 'Authorization: Bearer → 200').toBe(200);
      expect(setCookie, 'over plain http, no proxy: cookies without Secure').not.toContain('Secure');
      // Behind a TLS-terminating proxy the cookies are Secure, as over Node's own TLS.
      for (const headers of [{ 'x-forwarded-proto': 'https' }, { forwarded: 'for=203.0.113.9;proto=https' }]) {
        const viaProxy = await fetch(`${app.url}/b/0/q/default?token=${TOKEN}`, { headers, redirect: 'manual' });
        expect(
          viaProxy.headers.get('set-cookie') ?? '',
          `?token= through a TLS proxy (${JSON.stringify(headers)}): the login cookie must be Secure`,
        ).toMatch(/; Secure/);
      }
      const anonymous = new Browserless(app.url);
      const post = await anonymous.post('/b/0/q/default/dead/action', { op: 'purge-filtered', confirm: 'yes' });
      expect(post.status, 'mutation without the token → 401').toBe(401);
    } finally {
      await app.stop();
    }
  });

  it('lets an auth hook decide, and read-only mode refuses every mutation', async () => {
    const app = await serve(
      createDashboard({
        backends: [{ name: 'mem', adapter }],
        readOnly: true,
        auth: (req) => req.headers['x-user'] === 'ops',
      }),
    );
    try {
      expect((await fetch(`${app.url}/`)).status, 'hook says no → 403').toBe(403);
      const client = new Browserless(app.url);
      const headers = { 'x-user': 'ops' };
      const page = await client.request('/b/0/q/default/dead', { headers });
      const text = await page.text();
      expect(page.status, 'hook says yes → 200').toBe(200);
      expect(text, 'read-only: no action buttons').not.toContain('name="op"');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? 'x';
      const post = await client.request('/b/0/q/default/dead/action', {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, op: 'purge-filtered', confirm: 'yes' }),
      });
      expect(post.status, 'read-only POST → 403').toBe(403);
    } finally {
      await app.stop();
    }
  });

  it('reads counts through one shared poller, however many viewers refresh', async () => {
    let statsCalls = 0;
    const counted = new Proxy(adapter, {
      get(target, prop) {
        if (prop === 'stats')
          return (queue: string) => {
            statsCalls++;
            return target.stats(queue);
          };
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const app = await serve(createDashboard({ backends: [{ name: 'mem', adapter: counted }], sampleIntervalMs: 60_000 }));
    try {
      const viewer = new Browserless(app.url);
      expect((await viewer.request('/')).status, 'first viewer').toBe(200);
      const queues = (await adapter.listQueues()).length;
      const afterFirstRound = statsCalls;
      expect(afterFirstRound, 'one round reads each queue once').toBe(queues);
      const views = await Promise.all(
        Array.from({ length: 40 }, (_, i) => new Browserless(app.url).request(i % 2 === 0 ? '/live' : '/b/0/q/default/live')),
      );
      expect(
        views.map((r) => r.status),
        '40 viewers served',
      ).toEqual(Array(40).fill(200));
      expect(statsCalls, '40 refreshing viewers cause no extra reads of the backend').toBe(afterFirstRound);
    } finally {
      await app.stop();
    }
  });

  it('charts throughput from worker events when a worker reports to the dashboard', async () => {
    const dashboard = createDashboard({ backends: [{ name: 'mem', adapter }] });
    const app = await serve(dashboard);
    try {
      const onEvent = dashboard.workerEvents('mem', 'default');
      for (let i = 0; i < 3; i++)
        onEvent({
          type: 'succeeded',
          jobId: `j${i}`,
          jobType: 'email.welcome',
          attempt: 1,
          durationMs: 5,
          decision: { kind: 'ack' },
        });
      onEvent({ type: 'failed', jobId: 'j9', jobType: 'email.welcome', attempt: 1, durationMs: 5, error: { message: 'x' } });
      const page = await new Browserless(app.url).page('/b/0/q/default');
      expect(page.text, 'the throughput chart is fed by worker events').toContain('Throughput (jobs/s, from worker events)');
      expect(() => dashboard.workerEvents('nope', 'default'), 'unknown backend name').toThrow(/no backend named "nope"/);
    } finally {
      await app.stop();
    }
  });

  it('rejects bad configuration with typed, non-retryable errors', () => {
    expect(() => createDashboard({ backends: [] }), 'no backends').toThrow(/at least one backend/);
    expect(() => createDashboard({ backends: [{ name: 'm', adapter }], sampleIntervalMs: 100 }), 'poll too often').toThrow(
      /sampleIntervalMs must be from 2000 to 86400000/,
    );
    expect(
      () => createDashboard({ backends: [{ name: 'm', adapter }], sampleIntervalMs: 3_000_000_000 }),
      'poll past what a timer can wait (it would fire every millisecond)',
    ).toThrow(/sampleIntervalMs must be from 2000 to 86400000/);
    expect(() => createDashboard({ backends: [{ name: 'm', adapter }], token: 'short' }), 'short token').toThrow(/at least 12/);
    for (const idleStopMs of [-1, Number.NaN])
      expect(
        () => createDashboard({ backends: [{ name: 'm', adapter }], idleStopMs }),
        `idleStopMs ${idleStopMs} (negative: every page waited forever for a first round)`,
      ).toThrow(/idleStopMs must be 0 or more/);
    try {
      createDashboard({ backends: [{ name: 'm' }] });
      expect.unreachable('a backend without url or adapter must throw');
    } catch (error) {
      expect(error, 'INVALID_ARGUMENT, not retryable').toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    }
  });
});

describe('a backend URL whose password does not parse', () => {
  it('never shows the password, on the overview or on the error page', async () => {
    // An AWS secret key pasted unencoded: its "/" ends the URL's authority, so the URL does not parse.
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const app = await serve(
      createDashboard({ backends: [{ name: 'prod', url: `sqs://AKIAIOSFODNN7EXAMPLE:${secret}@eu-west-1` }] }),
    );
    try {
      const client = new Browserless(app.url);
      for (const path of ['/', '/b/0/q/default']) {
        const text = await (await client.request(path)).text();
        for (const part of ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY']) {
          expect(text, `GET ${path} shows ${part.slice(0, 4)}…`).not.toContain(part);
        }
      }
    } finally {
      await app.stop();
    }
  });
});

describe('the shared poller', () => {
  const adapter = memoryAdapter();
  afterAll(() => adapter.close());
  const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `p${i}-${Math.random()}`, body: '{}', attributes: {} }));

  it('reads afresh for the first viewer after an idle stop', async () => {
    await adapter.ensureQueue('idle-queue');
    const poller = new Poller([new BackendHandle({ name: 'm', adapter, queues: ['idle-queue'] })], {
      intervalMs: 20,
      historySize: 10,
      idleStopMs: 0,
    });
    try {
      await poller.touch();
      await vi.waitFor(() => expect(poller.polling, 'the poller stops without viewers').toBe(false));
      await adapter.send('idle-queue', jobs(7));
      const first = poller.touch();
      await poller.touch(); // a second viewer at the same time waits for the same fresh round
      expect(
        poller.history(0, 'idle-queue').at(-1)?.ready,
        'touch() after an idle stop: the latest sample is read now (it was the one from before the stop, ready 0)',
      ).toBe(7);
      await first;
    } finally {
      await poller.close();
    }
  });

  it('keeps reading a queue a viewer opened that is not among the listed ones', async () => {
    await adapter.ensureQueue('listed-queue');
    await adapter.ensureQueue('unlisted-queue');
    const poller = new Poller([new BackendHandle({ name: 'm', adapter, queues: ['listed-queue'] })], {
      intervalMs: 20,
      historySize: 10,
      idleStopMs: 60_000,
    });
    try {
      await poller.touch();
      expect((await poller.viewed(0, 'unlisted-queue')).at(-1)?.ready, 'first reading').toBe(0);
      await adapter.send('unlisted-queue', jobs(4));
      await vi.waitFor(
        () =>
          expect(
            poller.history(0, 'unlisted-queue').at(-1)?.ready,
            'the rounds read an opened queue outside `queues` (its counts stayed at the first reading, 0)',
          ).toBe(4),
        { timeout: 2_000 },
      );
    } finally {
      await poller.close();
    }
  });

  it('refuses requests after close() and does not open backends again', async () => {
    const dashboard = createDashboard({ backends: [{ name: 'mem', url: 'memory://dashboard-close' }] });
    const app = await serve(dashboard);
    try {
      expect((await fetch(`${app.url}/`)).status, 'before close').toBe(200);
      await dashboard.close();
      const after = await fetch(`${app.url}/b/0/q/default`);
      expect(after.status, 'GET after close() (it re-opened the adapter from its URL, and nothing closed it)').toBe(503);
      const handle = new BackendHandle({ name: 'm', url: 'memory://dashboard-close' });
      await (await handle.adapter()).ensureQueue('close-queue');
      await handle.close();
      const reopened = await handle.adapter().then(
        () => 'a new adapter',
        (error: { code?: string }) => error.code,
      );
      expect(reopened, 'BackendHandle.adapter() after close() (it opened a new adapter that nobody closes)').toBe('CLOSED');
    } finally {
      await app.stop();
    }
  });
});
