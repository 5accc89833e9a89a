import { GCProfiler, type GCProfilerResult, getHeapStatistics } from 'node:v8';

/** What one measured phase of a bench round cost. */
export interface Sample {
  /** Wall time, ms. */
  readonly wallMs: number;
  /** CPU time of this process (user + system, every thread), µs. */
  readonly clientCpuUs: number;
  /** CPU time of the server process tree, µs, when the bench can read it. */
  readonly serverCpuUs?: number;
  /** Time this process spent in garbage collection during the phase, ms (V8's `GCProfiler`). */
  readonly gcMs?: number;
  /**
   * Bytes this process allocated on V8's heap during the phase ({@link allocatedBytes}). Unlike
   * time, it hardly moves with the machine's load: what the GC share will be, measured without noise.
   */
  readonly allocatedBytes?: number;
}

/** The used heap before and after one collection (from a `GCProfiler` statistic). */
export interface HeapCollection {
  readonly before: number;
  readonly after: number;
}

/**
 * Bytes allocated on the heap over a span that started with `startUsed` bytes in use and ended
 * with `endUsed`, given the collections in between: what the heap grew by from the start (or the
 * last collection) to each collection, plus from the last collection to the end. Collections
 * only ever shrink the used heap; allocation is everything that made it grow. Objects made
 * outside the JavaScript heap (Buffers' memory, native code's) are not counted.
 */
export function allocatedBytes(startUsed: number, collections: readonly HeapCollection[], endUsed: number): number {
  let total = 0;
  let used = startUsed;
  for (const { before, after } of collections) {
    total += Math.max(0, before - used);
    used = after;
  }
  return total + Math.max(0, endUsed - used);
}

/** The collections of a `GCProfiler` result, as {@link allocatedBytes} takes them. */
function collectionsOf(result: GCProfilerResult): HeapCollection[] {
  return result.statistics.map((s) => ({
    before: s.beforeGC.heapStatistics.usedHeapSize,
    after: s.afterGC.heapStatistics.usedHeapSize,
  }));
}

/**
 * Reads a server's cumulative CPU time (µs), or undefined when it cannot. It may answer
 * asynchronously (Redis' `INFO cpu`, a query): {@link measure} awaits it before and after.
 */
export type ServerCpu = () => number | undefined | Promise<number | undefined>;

/**
 * Runs `phase` and measures its wall time, this process's CPU (`process.cpuUsage`), its GC
 * time (`v8.GCProfiler`), the bytes it allocated on the heap ({@link allocatedBytes}) and, with
 * `serverCpu`, the server's CPU over the same span. The phase's own promise marks its end: a phase must resolve at the event it measures (e.g. the
 * last job's ack confirmed), not after any tail (a long poll still open). Where the process
 * exposes `gc` (the isolated rounds' children run with `--expose-gc`), the heap is collected
 * first, so that a phase does not pay for the garbage of the one before it.
 */
export async function measure<T>(phase: () => Promise<T>, serverCpu?: ServerCpu): Promise<{ sample: Sample; value: T }> {
  // Each phase starts on a collected heap (where the bench exposes gc): a drain does not pay for
  // the garbage its own enqueue left, as a worker process that did not enqueue would not.
  (globalThis as { gc?: () => void }).gc?.();
  const server0 = await serverCpu?.();
  const gc = new GCProfiler();
  gc.start();
  const startUsed = getHeapStatistics().used_heap_size;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let value: T;
  try {
    value = await phase();
  } catch (error) {
    gc.stop();
    throw error;
  }
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const endUsed = getHeapStatistics().used_heap_size;
  const profile = gc.stop();
  const gcUs = profile?.statistics.reduce((sum, s) => sum + s.cost, 0);
  const server1 = await serverCpu?.();
  const sample: Sample = {
    wallMs,
    clientCpuUs: cpu.user + cpu.system,
    ...(server0 !== undefined && server1 !== undefined ? { serverCpuUs: server1 - server0 } : {}),
    ...(gcUs !== undefined ? { gcMs: gcUs / 1_000 } : {}),
    ...(profile !== undefined ? { allocatedBytes: allocatedBytes(startUsed, collectionsOf(profile), endUsed) } : {}),
  };
  return { sample, value };
}
