import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createQueue, createWorker, defineJob, isBgError, registerAdapter, unregisterAdapter } from '@bg/core';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'fsq-connect-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  unregisterAdapter('fsq:');
});

/** The application's one registration (a second, different loader for fsq: would be refused). */
const loadFsq = () => import('bg-adapter-fsq');

const greet = defineJob({
  type: 'greet',
  schema: { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value: value as { name: string } }) } },
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isBgError(error) ? error.code : `not a BgError: ${String(error)}`;
}

describe("connect('fsq:///…') after registerAdapter", () => {
  it('is an unknown scheme until registered, with a hint how to register it', async () => {
    const error = await connect(`fsq://${root}`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBgError(error) && error.code, 'connect(fsq:) before registerAdapter').toBe('INVALID_ARGUMENT');
    expect(String((error as Error).message)).toContain("registerAdapter('fsq:'");
  });

  it('runs a producer and a worker from the URL alone', async () => {
    registerAdapter('fsq:', loadFsq);
    const url = `fsq://${root}`;
    const adapter = await connect(url);
    expect(adapter.name, `connect(${url}).name`).toBe('fsq');
    await adapter.ensureQueue('greetings');
    const jobs = createQueue({ adapter, queue: 'greetings' });
    const sent = await jobs.enqueue(greet, { name: 'Ada' });

    const consumer = await connect(url); // a second connection on the same folder, as another process would have
    const seen: string[] = [];
    const worker = createWorker({ adapter: consumer, queue: 'greetings', leaseMs: 5_000, pollMs: 50 });
    worker.handle(greet, async (payload, ctx) => {
      seen.push(`${ctx.jobId}:${payload.name}`);
    });
    await worker.start();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await adapter.stats('greetings')).ready + (await adapter.stats('greetings')).inFlight > 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await worker.stop();
    expect(seen, 'the worker on the fsq: URL handled the job once').toEqual([`${sent.id}:Ada`]);
    expect(await adapter.stats('greetings'), 'stats after the job was acked').toEqual({
      ready: 0,
      inFlight: 0,
      delayed: 0,
      dead: 0,
    });
    await consumer.close();
    await adapter.close();
  });

  it('refuses URLs that are not a local folder, and a queue that was never created', async () => {
    registerAdapter('fsq:', loadFsq);
    expect(await codeOf(connect('fsq://somehost/data')), 'connect(fsq://somehost/data)').toBe('INVALID_ARGUMENT');
    expect(await codeOf(connect('fsq:///')), 'connect(fsq:///)').toBe('INVALID_ARGUMENT');
    const adapter = await connect(`fsq://${root}`);
    expect(await codeOf(adapter.stats('never-created')), 'stats of a queue never created').toBe('QUEUE_NOT_FOUND');
    await adapter.close();
  });
});
