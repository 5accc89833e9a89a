import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQueue, createWorker, decodeEnvelope, type Queue } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { afterEach, describe, expect, it } from 'vitest';
import { registerHandlers } from '../src/handlers.js';
import { createApp } from '../src/http-app.js';
import { avatarThumbnail, welcomeEmailV1 } from '../src/jobs.js';
import type { LedgerEntry } from '../src/ledger.js';

let server: Server | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
});

async function serve(queue: Queue): Promise<string> {
  server = createServer(createApp(queue));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function memoryLedger(entries: LedgerEntry[]) {
  return { file: '(memory)', write: (e: LedgerEntry) => void entries.push(e), close() {} };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the web service', () => {
  it('POST /signup stores a welcome email and a thumbnail job and answers 202 with their ids', async () => {
    const adapter = memoryAdapter();
    const queue = createQueue({ adapter, queue: 'signups' });
    await adapter.ensureQueue('signups');
    const base = await serve(queue);
    const res = await fetch(`${base}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', locale: 'de', avatarUrl: 'https://cdn.example.com/a.png' }),
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { userId: string; jobs: { welcomeEmail: string; avatarThumbnail?: string } };
    expect(body.jobs.avatarThumbnail).toBeDefined();
    const stats = (await (await fetch(`${base}/jobs/stats`)).json()) as { ready: number; dead: number; queue: string };
    expect(stats).toMatchObject({ queue: 'signups', ready: 2, dead: 0 });
    const received = await adapter.receive('signups', { max: 10, leaseMs: 1_000 });
    const envelopes = received.map((m) => decodeEnvelope(m.body));
    expect(envelopes.map((e) => [e.type, e.v]).sort()).toEqual([
      ['email.welcome', 2],
      ['image.thumbnail', 1],
    ]);
    expect(envelopes.find((e) => e.type === 'email.welcome')?.payload).toEqual({
      userId: body.userId,
      email: 'ada@example.com',
      locale: 'de',
    });
    await adapter.close();
  });

  it('rejects a bad signup with 400 and stores nothing', async () => {
    const adapter = memoryAdapter();
    const queue = createQueue({ adapter, queue: 'signups' });
    await adapter.ensureQueue('signups');
    const base = await serve(queue);
    const res = await fetch(`${base}/signup`, { method: 'POST', body: JSON.stringify({ email: 'not an email' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/email/);
    expect((await queue.stats()).ready).toBe(0);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    await adapter.close();
  });
});

describe('the handlers', () => {
  it('migrate v1 welcome emails, dead-letter .heic avatars until the fix, then complete them on replay', async () => {
    const adapter = memoryAdapter();
    const queue = createQueue({ adapter, queue: 'signups' });
    await adapter.ensureQueue('signups');
    const entries: LedgerEntry[] = [];
    const flag = join(tmpdir(), `bg-example-heic-${process.pid}-${Date.now()}.flag`);
    const worker = createWorker({ adapter, queue: 'signups', pollMs: 20, leaseMs: 5_000 });
    registerHandlers(worker, { workerName: 't', ledger: memoryLedger(entries), heicFlagFile: flag, random: () => 0 });
    await worker.start();
    const legacy = await queue.enqueue(welcomeEmailV1, { userId: 'u1', email: 'u1@example.com' });
    const poison = await queue.enqueue(avatarThumbnail, {
      userId: 'u1',
      avatarUrl: 'https://cdn.example.com/u1.HEIC',
      size: 128,
    });
    await until(async () => entries.some((e) => e.e === 'done' && e.id === legacy.id) && (await queue.stats()).dead === 1);
    expect(entries.find((e) => e.e === 'done' && e.id === legacy.id)).toMatchObject({ v: 1, detail: 'locale=en' });
    const dead = await queue.deadLetters.show(poison.id);
    expect(dead?.reason).toBe('permanent-error');
    expect(dead?.error?.message).toMatch(/HEIC images are not supported/);

    writeFileSync(flag, 'fixed');
    expect(await queue.deadLetters.replay(poison.id)).toBe(true);
    await until(() => entries.some((e) => e.e === 'done' && e.id === poison.id));
    expect((await queue.stats()).dead).toBe(0);
    await worker.stop({ graceMs: 1_000 });
    rmSync(flag, { force: true });
    await adapter.close();
  });
});
