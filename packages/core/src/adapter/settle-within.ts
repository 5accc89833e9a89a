/**
 * Waits for `promise` to settle, either way, for at most `ms`: true when it settled in time,
 * false when the time ran out first (the promise is left to settle on its own; a rejection is
 * handled, never unhandled). For goodbyes that may never be answered on a dead connection (a
 * `QUIT`, a pool's `end()`): the caller goes on and drops the connection itself.
 *
 * @example
 * ```ts
 * if (!(await settleWithin(client.quit(), 1_000))) client.disconnect();
 * ```
 */
export async function settleWithin(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (promise === undefined) return true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(ok, ok), late]);
  } finally {
    clearTimeout(timer);
  }
}

function ok(): true {
  return true;
}
