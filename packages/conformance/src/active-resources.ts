/**
 * What outlives an adapter's `close()`: the process's active resources (`process.getActiveResourcesInfo()`:
 * timers, sockets, handles that keep the event loop alive) that were not there before the
 * adapter was built. Unref'd timers and sockets do not keep a process alive and are not listed.
 */
export function resourcesBeyond(baseline: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const r of baseline) left.set(r, (left.get(r) ?? 0) + 1);
  const extra: string[] = [];
  for (const r of process.getActiveResourcesInfo()) {
    const n = left.get(r) ?? 0;
    if (n > 0) left.set(r, n - 1);
    else extra.push(r);
  }
  return extra;
}

/**
 * Waits until nothing beyond `baseline` is active (a socket being closed takes a turn of the
 * event loop or two), polling, for at most `deadlineMs`; resolves with what is still left
 * (nothing on a clean close). Each look is taken inside a `setImmediate` callback, where the
 * poll's own timer is no longer active.
 */
export async function settledResources(baseline: readonly string[], deadlineMs: number): Promise<string[]> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const extra = await new Promise<string[]>((resolve) => setImmediate(() => resolve(resourcesBeyond(baseline))));
    if (extra.length === 0 || Date.now() >= end) return extra;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
