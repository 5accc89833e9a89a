/** Runs `fn(0) … fn(count - 1)`, at most `width` at a time. */
export async function pool(count: number, width: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}
