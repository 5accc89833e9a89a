// stopOnSignals after the stop: listeners removed (a later signal ends the process as usual),
// a second signal forces phase two and gives signals back, a failing onStopped is said, not swallowed.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, createWorker, defineJob, stopOnSignals } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';

const job = defineJob({ type: 'unit.signal', schema: z.object({ n: z.number() }) });
const SIGNAL = 'SIGUSR2';

afterEach(() => {
  process.exitCode = undefined;
});

describe('stopOnSignals', () => {
  it('removes its listeners once the stop has ended, so that a later signal has its default effect', async () => {
    const before = process.listenerCount(SIGNAL);
    const worker = createWorker({ adapter: inTestAdapter(), queue: 'q-sig-1', pollMs: 20 });
    worker.handle(job, () => {});
    await worker.start();
    let stopped = false;
    stopOnSignals([worker], {
      signals: [SIGNAL],
      graceMs: 100,
      onStopped: () => {
        stopped = true;
      },
    });
    expect(process.listenerCount(SIGNAL), 'stopOnSignals listens').toBe(before + 1);
    process.emit(SIGNAL, SIGNAL);
    await until('onStopped', () => stopped);
    await until('the listener to be removed after onStopped', () => process.listenerCount(SIGNAL) === before);
    expect(worker.running).toBe(false);
  });

  it('on a second signal skips the rest of the grace period and gives the signals back at once', async () => {
    const before = process.listenerCount(SIGNAL);
    const adapter = inTestAdapter();
    const worker = createWorker({ adapter, queue: 'q-sig-2', pollMs: 20 });
    let started = false;
    worker.handle(job, () => {
      started = true;
      return new Promise<void>(() => {});
    });
    await createQueue({ adapter, queue: 'q-sig-2' }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the handler to start', () => started);
    let stoppedAt = 0;
    stopOnSignals([worker], {
      signals: [SIGNAL],
      graceMs: 60_000,
      onStopped: () => {
        stoppedAt = Date.now();
      },
    });
    process.emit(SIGNAL, SIGNAL);
    expect(process.listenerCount(SIGNAL), 'still listening during the grace period').toBe(before + 1);
    const secondAt = Date.now();
    process.emit(SIGNAL, SIGNAL);
    expect(process.listenerCount(SIGNAL), 'a second signal removes the listener: a third ends the process').toBe(before);
    await until('the stop to end after the second signal', () => stoppedAt > 0);
    expect(stoppedAt - secondAt, 'the 60 s grace period was cut short by the second signal').toBeLessThan(10_000);
  });

  it('reports an onStopped that throws as a redacted process warning and exit code 1, not silently', async () => {
    const warnings: { message: string; code?: string }[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push({ message: w.message, code: w.code });
    process.on('warning', onWarning);
    try {
      const worker = createWorker({ adapter: inTestAdapter(), queue: 'q-sig-3', pollMs: 20 });
      worker.handle(job, () => {});
      await worker.start();
      stopOnSignals([worker], {
        signals: [SIGNAL],
        graceMs: 100,
        onStopped: () => {
          throw new Error('close failed for redis://:hunter2Sig@db:6379');
        },
      });
      process.emit(SIGNAL, SIGNAL);
      await until('a warning about the failed stop', () => warnings.some((w) => w.code === 'BG_STOP_FAILED'));
      const warning = warnings.find((w) => w.code === 'BG_STOP_FAILED');
      expect(warning?.message, 'the warning names the failure').toContain('close failed for redis://');
      expect(warning?.message, 'the warning is redacted').not.toContain('hunter2Sig');
      expect(process.exitCode, 'a failed stop sets exit code 1').toBe(1);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
