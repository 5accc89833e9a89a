import { BgError, defineJob } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDashboard } from '../src/index.js';
import { MAX_RESULTS_PER_SESSION } from '../src/result-store.js';
import { Browserless, seedDeadLetters, serve } from './helpers.js';

const welcome = defineJob({ type: 'email.welcome', version: 1, schema: z.object({ userId: z.string() }) });

/** Enqueues through the form as `client`; returns the address of the result page. */
async function enqueue(client: Browserless, userId: string): Promise<string> {
  const { csrf } = await client.page('/b/0/q/emails/enqueue');
  const res = await client.post('/b/0/q/emails/enqueue', {
    _csrf: csrf ?? '',
    type: 'email.welcome',
    payload: JSON.stringify({ userId }),
  });
  expect(res.status, `POST /enqueue (${userId}) → a redirect to its result`).toBe(303);
  return res.headers.get('location') ?? '';
}

describe('results of mutations belong to the session that made them', () => {
  const inner = memoryAdapter();
  // Replays fail for ids starting with "f": a replay of many failing ones keeps a bounded result.
  const adapter = Object.assign(Object.create(inner), inner, {
    replayDeadLetter: (queue: string, id: string) =>
      Promise.reject(new BgError('UNREACHABLE', `replay of ${id} on ${queue} failed: connection reset`)),
  });
  let app: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    await inner.ensureQueue('emails');
    app = await serve(createDashboard({ backends: [{ name: 'm', adapter }], jobs: [welcome] }));
  });
  afterAll(async () => {
    await app.stop();
    await inner.close();
  });

  it('a session id the dashboard did not issue is replaced, so whoever chose it cannot read the results', async () => {
    // A cookie planted by another site of the same host (cookies are shared across ports), known
    // to its author, under the name this dashboard uses (learnt from any response of it).
    const sid = (await fetch(`${app.url}/`)).headers
      .getSetCookie()
      .map((c) => c.slice(0, c.indexOf('=')))
      .find((n) => n.startsWith('bg_dash_sid'));
    if (sid === undefined) throw new Error('the dashboard set no session cookie');
    const planted = 'chosen-by-someone-else-0001';
    const victim = new Browserless(app.url);
    const author = new Browserless(app.url);
    for (const client of [victim, author]) client.cookies.set(sid, planted);
    const first = await victim.request('/');
    expect(first.headers.getSetCookie().join('\n'), 'a fresh session cookie replaces the chosen one').toMatch(
      new RegExp(`^${sid}=(?!${planted})`, 'm'),
    );
    const result = await enqueue(victim, 'victim');
    expect((await victim.page(result)).status, 'the victim reads its result').toBe(200);
    author.cookies.set(sid, planted);
    expect((await author.page(result)).status, "the planted session's author reads the victim's result").toBe(404);
  });

  it("one session's many results never push out another session's", async () => {
    const quiet = new Browserless(app.url);
    const mine = await enqueue(quiet, 'quiet');
    const busy = new Browserless(app.url);
    const own: string[] = [];
    for (let i = 0; i < 210; i++) own.push(await enqueue(busy, `busy-${i}`));
    expect((await quiet.page(mine)).status, "the quiet session's result after another session made 210").toBe(200);
    expect((await busy.page(own.at(-1) as string)).status, "the busy session's newest result").toBe(200);
    expect(
      (await busy.page(own.at(-1 - MAX_RESULTS_PER_SESSION) as string)).status,
      `the busy session keeps its newest ${MAX_RESULTS_PER_SESSION}`,
    ).toBe(404);
  }, 60_000);

  it('an action result keeps the first failures only, and says how many failed', async () => {
    await seedDeadLetters(inner, 'emails', 120, { type: 'email.welcome', reason: 'max-attempts', message: 'x' });
    const client = new Browserless(app.url);
    const { csrf } = await client.page('/b/0/q/emails/dead');
    const confirm = await client.post('/b/0/q/emails/dead/action', { _csrf: csrf ?? '', op: 'replay-filtered' });
    const upto = /name="upto" value="([^"]+)"/.exec(await confirm.text())?.[1] ?? '';
    const done = await client.post('/b/0/q/emails/dead/action', {
      _csrf: csrf ?? '',
      op: 'replay-filtered',
      confirm: 'yes',
      upto,
    });
    const page = await client.page(done.headers.get('location') ?? '');
    expect(page.text, 'the result names every failure').toContain('120 failed (the first 50 shown)');
    expect(page.text.match(/replay of [^ ]+ on emails failed/g)?.length, 'failure lines kept and shown').toBe(50);
  });
});
