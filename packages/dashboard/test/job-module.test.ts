import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBgError, setWarningSink } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../src/index.js';
import { MODULE_RETRY_MS } from '../src/job-source.js';
import { Browserless, serve } from './helpers.js';

const core = new URL(import.meta.resolve('@bg/core')).href;
const zod = new URL(import.meta.resolve('zod')).href;
const GOOD = `import { defineJob } from '${core}';\nimport { z } from '${zod}';\nexport const welcome = defineJob({ type: 'email.welcome', schema: z.object({ userId: z.string() }) });\n`;

describe('the job module (module option)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-dash-module-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a path that names no file is INVALID_ARGUMENT when the dashboard is created', () => {
    const adapter = memoryAdapter();
    for (const module of [join(dir, 'missing.js'), dir, '']) {
      let error: unknown;
      try {
        createDashboard({ backends: [{ name: 'm', adapter }], module });
      } catch (caught) {
        error = caught;
      }
      expect(
        isBgError(error, 'INVALID_ARGUMENT'),
        `createDashboard({ module: ${JSON.stringify(module)} }): ${String(error)}`,
      ).toBe(true);
      expect((error as { retryable?: boolean }).retryable, 'a configuration error is not retryable').toBe(false);
    }
  });

  it('a module that stops loading leaves the other pages working, says so once without server paths, and recovers', async () => {
    const path = join(dir, 'jobs.mjs');
    writeFileSync(path, GOOD.replace('export const welcome =', 'export const welcome = ;'));
    const warnings: string[] = [];
    const previous = setWarningSink((line) => warnings.push(line));
    const adapter = memoryAdapter();
    await adapter.ensureQueue('emails');
    const app = await serve(createDashboard({ backends: [{ name: 'm', adapter, queues: ['emails'] }], module: path }));
    try {
      const client = new Browserless(app.url);
      for (let i = 0; i < 3; i++) {
        const queue = await client.page('/b/0/q/emails');
        expect(queue.status, 'GET the queue page while the job module is broken (it was 400 until a restart)').toBe(200);
        expect(queue.text, 'no enqueue link without job definitions').not.toContain('/enqueue"');
        const enqueue = await client.page('/b/0/q/emails/enqueue');
        expect(enqueue.status, 'GET the enqueue form while the module is broken').toBe(503);
        expect(enqueue.text, 'the enqueue form names the failure').toMatch(
          /the job module &quot;jobs\.mjs&quot; did not load: \w*Error: \S/,
        );
        expect(enqueue.text, "the page holds none of the server's paths").not.toContain(dir);
      }
      expect((await client.page('/')).status, 'GET / while the module is broken').toBe(200);
      const about = warnings.filter((w) => w.includes('did not load'));
      expect(about.length, `warnings printed for one failure over many requests: ${JSON.stringify(warnings)}`).toBe(1);

      writeFileSync(path, GOOD);
      const end = Date.now() + MODULE_RETRY_MS * 3;
      let status = 0;
      while (Date.now() < end && status !== 200) {
        status = (await client.page('/b/0/q/emails/enqueue')).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status, 'GET the enqueue form after the module was fixed, without a restart').toBe(200);
      expect((await client.page('/b/0/q/emails')).text, 'the enqueue link is back').toContain('/b/0/q/emails/enqueue"');
    } finally {
      setWarningSink(previous);
      await app.stop();
      await adapter.close();
    }
  }, 30_000);
});
