/**
 * The cost of @bg/otel on the core benchmark (@bg/memory end to end, as packages/memory/bench/core.ts:
 * enqueueMany N jobs, drain them with a no-op handler) in three modes, each in a fresh process:
 * - `none`: no instrumentation option;
 * - `no-sdk`: `instrumentation: instrument()` with no OpenTelemetry SDK registered;
 * - `sdk`: an SDK (tracer provider with a batch processor, meter provider with a reader) whose
 *   exporters drop everything.
 * Rounds alternate the modes; the best round of each is kept (the least disturbed by other load).
 * Run: pnpm --filter @bg/otel bench   (BENCH_JOBS, BENCH_ROUNDS, BENCH_CONCURRENCY=16,64 to change the size)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createQueue, createWorker, defineJob, type Instrumentation } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { instrument } from '../src/index.js';

type Mode = 'none' | 'no-sdk' | 'sdk';
const MODES: readonly Mode[] = ['none', 'no-sdk', 'sdk'];
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '16,64').split(',').map(Number);
const N = Number(process.env.BENCH_JOBS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const job = defineJob({ type: 'bench.noop', schema: z.object({ userId: z.string(), n: z.number() }) });

/** Exporters that accept and drop everything. */
const dropSpans: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
const dropMetrics: PushMetricExporter = {
  export: (_metrics, done) => done({ code: 0 }),
  forceFlush: async () => {},
  shutdown: async () => {},
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

function instrumentation(mode: Mode): Instrumentation | undefined {
  if (mode === 'none') return undefined;
  if (mode === 'no-sdk') return instrument();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] });
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 1_000 })],
  });
  return instrument({ tracerProvider, meterProvider });
}

/** One end-to-end run: jobs per second of enqueue + drain. */
async function endToEnd(mode: Mode, concurrency: number): Promise<number> {
  const adapter = memoryAdapter();
  const hooks = instrumentation(mode);
  const jobs = createQueue({ adapter, queue: 'bench', ...(hooks ? { instrumentation: hooks } : {}) });
  const payloads = Array.from({ length: N }, (_, n) => ({ userId: `user-${n}`, n }));
  const t0 = performance.now();
  await jobs.enqueueMany(job, payloads);
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const worker = createWorker({ adapter, queue: 'bench', concurrency, pollMs: 50, ...(hooks ? { instrumentation: hooks } : {}) });
  worker.handle(job, () => {
    if (++done === N) finished();
  });
  await worker.start();
  await all;
  const t1 = performance.now();
  await worker.stop();
  await adapter.close();
  return N / ((t1 - t0) / 1000);
}

const child = process.argv[2] as Mode | undefined;
if (child) {
  const concurrency = Number(process.argv[3]);
  await endToEnd(child, concurrency); // warm-up
  console.log(JSON.stringify(await endToEnd(child, concurrency)));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const concurrency of CONCURRENCY) {
    for (const mode of MODES) {
      const run = spawnSync(process.execPath, [...process.execArgv, self, mode, String(concurrency)], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`bench ${mode} c=${concurrency} failed: ${run.stderr}`);
      const rate = Number(run.stdout.trim().split('\n').at(-1));
      const key = `${mode} c=${concurrency}`;
      best.set(key, Math.max(best.get(key) ?? 0, rate));
      console.error(`round ${round + 1} ${key}: ${Math.round(rate)} jobs/s`);
    }
  }
}
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(9);
console.log(`@bg/otel cost on the core bench: ${N.toLocaleString('en-US')} jobs, best of ${ROUNDS}, Node ${process.version}`);
for (const concurrency of CONCURRENCY) {
  const base = best.get(`none c=${concurrency}`) ?? 1;
  for (const mode of MODES) {
    const rate = best.get(`${mode} c=${concurrency}`) ?? 0;
    const slower = ((base - rate) / base) * 100;
    console.log(
      `c=${String(concurrency).padEnd(3)} ${mode.padEnd(7)} ${fmt(rate)} jobs/s   ${mode === 'none' ? 'baseline' : `${slower.toFixed(1)}% slower`}`,
    );
  }
}
