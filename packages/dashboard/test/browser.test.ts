import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Adapter, connect, createQueue, createWorker, defineJob, type Worker } from '@bg/core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { createDashboard } from '../src/index.js';
import { seedDeadLetters, serve } from './helpers.js';

const e2e = inject('e2e');
const TOKEN = 'e2e-token-0123456789';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const README_SHOT = fileURLToPath(new URL('../docs/screenshot.png', import.meta.url));
const MODULE = fileURLToPath(new URL('./fixtures/jobs.mjs', import.meta.url));
const welcome = defineJob({ type: 'email.welcome', version: 1, schema: z.object({ userId: z.string().min(1) }) });
const thumbnail = defineJob({ type: 'image.thumbnail', version: 1, schema: z.object({ url: z.string().min(1) }) });
const QUEUE = 'emails';

/** The few browser globals the tests read inside `page.evaluate` (the tsconfig has no DOM lib). */
type BrowserGlobals = {
  document: { documentElement: { scrollWidth: number }; activeElement: { textContent: string | null } | null };
  innerWidth: number;
};

/** Whether the page is no wider than its viewport (nothing forces a sideways scroll). */
async function fitsWidth(page: Page): Promise<{ scrollWidth: number; width: number }> {
  return page.evaluate(() => {
    const g = globalThis as unknown as BrowserGlobals;
    return { scrollWidth: g.document.documentElement.scrollWidth, width: g.innerWidth };
  });
}

describe.skipIf('skip' in e2e)('dashboard in Chromium over a private redis-server', () => {
  const info = e2e as { redisUrl: string; chromium: string };
  const url = `${info.redisUrl}/0?prefix=bg-dash-e2e`;
  let adapter: Adapter;
  let app: Awaited<ReturnType<typeof serve>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let worker: Worker | undefined;
  const completed = new Map<string, number>();
  let dead: string[] = [];

  const shot = (name: string, target: Page = page) => target.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    adapter = await connect(url);
    // Dead letters first: seeding leases whatever is ready in the queue.
    dead = await seedDeadLetters(adapter, QUEUE, 3, {
      type: 'image.thumbnail',
      reason: 'permanent-error',
      message: 'cannot make a thumbnail of https://cdn.example.com/a.heic',
      payload: { url: 'https://cdn.example.com/a.heic' },
    });
    await seedDeadLetters(adapter, QUEUE, 1, { type: 'email.welcome', reason: 'max-attempts', message: 'SMTP 451 greylisted' });
    const jobs = createQueue({ adapter, queue: QUEUE });
    await jobs.enqueue(welcome, { userId: 'u1' });
    await jobs.enqueue(welcome, { userId: 'u2' });
    app = await serve(
      createDashboard({ backends: [{ name: 'local redis', url }], token: TOKEN, module: MODULE, sampleIntervalMs: 2_000 }),
    );
    browser = await chromium.launch({ executablePath: info.chromium, args: ['--no-sandbox'], headless: true });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await worker?.stop({ graceMs: 1_000 });
    await browser?.close();
    await app?.stop();
    await adapter?.close();
  });

  it('shows every queue with its counts, keyboard first', async () => {
    const response = await page.goto(`${app.url}/?token=${TOKEN}`);
    expect(response?.status(), 'GET /?token= ends on the overview').toBe(200);
    expect(page.url(), 'the token left the address bar').toBe(`${app.url}/`);
    const row = page.locator(`tr[data-queue="${QUEUE}"]`);
    await expect.poll(() => row.locator('[data-count="ready"]').textContent(), { timeout: 15_000 }).toBe('2');
    expect(await row.locator('[data-count="dead"]').textContent(), 'dead count of emails').toBe('4');
    expect(await page.locator('body').textContent(), 'the backend URL is shown').toContain('redis://127.0.0.1');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.textContent);
    expect(focused, 'first Tab reaches the skip link').toBe('Skip to content');
    await shot('overview');
  });

  it('charts a queue from the shared poller', async () => {
    await page.getByRole('link', { name: QUEUE, exact: true }).click();
    // A flat line has no height, so wait for it to be in the DOM rather than "visible".
    await page.locator('svg.chart polyline').first().waitFor({ state: 'attached', timeout: 20_000 });
    expect(await page.locator('dd[data-count="dead"]').textContent(), 'dead card').toBe('4');
    expect(await page.locator('svg.chart').first().getAttribute('aria-label'), 'chart is labelled').toMatch(/ready 2/);
    await shot('queue');
  });

  it('lists and filters dead letters, then opens one', async () => {
    await page.getByRole('link', { name: 'Dead letters', exact: true }).click();
    expect(await page.locator('table.dead tbody tr').count(), 'all 4 dead letters listed').toBe(4);
    await page.getByLabel('Reason').selectOption('permanent-error');
    await page.getByLabel('Error text').fill('HEIC');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await page.locator('table.dead tbody tr').count(), 'reason + error text → the 3 thumbnails').toBe(3);
    await shot('dead-letters');
    await page.getByRole('link', { name: dead[0] as string }).click();
    const envelope = await page.locator('pre[aria-label="envelope"]').textContent();
    expect(envelope, 'pretty-printed envelope').toContain('"type": "image.thumbnail"');
    expect(await page.locator('.error-text').textContent(), 'last error shown').toContain('cannot make a thumbnail');
    await shot('dead-letter');
  });

  it('replays a dead letter after confirmation, and a worker completes it', async () => {
    await page.getByRole('button', { name: 'Replay' }).click();
    expect(await page.locator('h1').textContent(), 'a confirmation step first').toBe('Confirm: replay');
    await shot('confirm-replay');
    await page.getByRole('button', { name: 'Yes, replay' }).click();
    expect(await page.locator('[data-result]').textContent(), 'result summary').toContain('Replayed 1 of 1 dead letter(s)');
    await shot('replay-result');
    worker = createWorker({ adapter, queue: QUEUE, concurrency: 4, leaseMs: 5_000 });
    const done = (id: string, attempt: number) => completed.set(id, attempt);
    worker.handle(thumbnail, (_p, ctx) => void done(ctx.jobId, ctx.attempt));
    worker.handle(welcome, (_p, ctx) => void done(ctx.jobId, ctx.attempt));
    await worker.start();
    await expect.poll(() => completed.get(dead[0] as string), { timeout: 20_000 }).toBe(1);
    expect(await adapter.getDeadLetter(QUEUE, dead[0] as string), 'no longer a dead letter').toBeUndefined();
  });

  it('purges a selected dead letter after confirmation', async () => {
    await page.goto(`${app.url}/b/0/q/${QUEUE}/dead`);
    const target = dead[1] as string;
    await page.getByLabel(`select ${target}`).check();
    await page.getByRole('button', { name: 'Purge selected' }).click();
    expect(await page.locator('ul.ids').textContent(), 'confirmation names the id').toContain(target);
    expect(await adapter.getDeadLetter(QUEUE, target), 'still there before confirming').toBeDefined();
    await page.getByRole('button', { name: 'Yes, purge' }).click();
    expect(await page.locator('[data-result]').textContent(), 'result summary').toContain('Purged 1 of 1 dead letter(s)');
    expect(await adapter.getDeadLetter(QUEUE, target), 'purged').toBeUndefined();
  });

  it('enqueues through the form, validated by the job schema, and the worker runs it', async () => {
    await page.goto(`${app.url}/b/0/q/${QUEUE}`);
    await page.getByRole('link', { name: 'Enqueue a job' }).click();
    await page.getByLabel('Job type').selectOption('email.welcome');
    await page.getByLabel(/^Payload/).fill('{"userId": 5}');
    await page.getByRole('button', { name: 'Enqueue' }).click();
    expect(await page.locator('[role="alert"]').textContent(), 'schema violation shown').toContain('INVALID_PAYLOAD');
    await shot('enqueue-refused');
    await page.getByLabel(/^Payload/).fill('{"userId": "u-form"}');
    await page.getByRole('button', { name: 'Enqueue' }).click();
    const id = await page.locator('[data-enqueued]').getAttribute('data-enqueued');
    expect(id, 'enqueued id').toMatch(/^[0-9a-f-]{36}$/);
    await shot('enqueue');
    await expect.poll(() => completed.has(id as string), { timeout: 20_000 }).toBe(true);
  });

  it('refuses a mutation without the CSRF value or without the token', async () => {
    const before = (await adapter.stats(QUEUE)).dead;
    const noCsrf = await page.request.post(`${app.url}/b/0/q/${QUEUE}/dead/action`, {
      form: { op: 'purge-filtered', confirm: 'yes' },
      maxRedirects: 0,
    });
    expect(noCsrf.status(), 'POST with the token cookie but no CSRF value → 403').toBe(403);
    const csrf = await page
      .goto(`${app.url}/b/0/q/${QUEUE}/dead`)
      .then(() => page.locator('input[name="_csrf"]').first().inputValue());
    const stranger = await browser.newContext();
    const noToken = await stranger.request.post(`${app.url}/b/0/q/${QUEUE}/dead/action`, {
      form: { _csrf: csrf, op: 'purge-filtered', confirm: 'yes' },
      maxRedirects: 0,
    });
    expect(noToken.status(), 'POST without the token → 401').toBe(401);
    await stranger.close();
    expect((await adapter.stats(QUEUE)).dead, 'nothing purged by refused requests').toBe(before);
  });

  it('charts what happened (README screenshot with BG_DASHBOARD_SCREENSHOT=1)', async () => {
    await page.goto(`${app.url}/b/0/q/${QUEUE}`);
    await expect.poll(() => page.locator('dd[data-count="ready"]').textContent(), { timeout: 15_000 }).toBe('0');
    expect(await page.locator('dd[data-count="dead"]').textContent(), 'one replayed, one purged: 2 dead letters left').toBe('2');
    if (process.env.BG_DASHBOARD_SCREENSHOT === '1') {
      await page.setViewportSize({ width: 1100, height: 820 });
      await page.screenshot({ path: README_SHOT, fullPage: false });
    }
  });

  it('renders at phone width (375 px) without sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 } });
    const small = await phone.newPage();
    try {
      await small.goto(`${app.url}/?token=${TOKEN}`);
      expect(await fitsWidth(small), 'overview fits 375 px').toEqual({ scrollWidth: 375, width: 375 });
      await shot('overview-phone', small);
      await small.goto(`${app.url}/b/0/q/${QUEUE}/dead`);
      expect(await fitsWidth(small), 'dead letters fit 375 px').toEqual({ scrollWidth: 375, width: 375 });
      await shot('dead-letters-phone', small);
    } finally {
      await phone.close();
    }
  });
});
