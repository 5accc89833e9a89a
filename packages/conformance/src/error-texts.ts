/**
 * Every text through which an error can show a secret: `String(error)`, the message, the
 * stack, its JSON (details included), and the same for each error of its `cause` chain and of
 * an `AggregateError`'s `errors` (one per host or attempt: not in its JSON, but printed by
 * `console.error` and `util.inspect`), five deep and at most 50 errors. The `connect.from-url`
 * case looks for the URL's secret in all of them; use it in your own tests of an adapter's error
 * paths.
 */
export function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  const seen = new Set<unknown>();
  let level: unknown[] = [error];
  for (let depth = 0; level.length > 0 && depth < 5; depth++) {
    const next: unknown[] = [];
    for (const current of level) {
      if (current === undefined || current === null || seen.has(current) || seen.size >= 50) continue;
      seen.add(current);
      texts.push(String(current));
      if (current instanceof Error) texts.push(current.message, current.stack ?? '');
      try {
        texts.push(JSON.stringify(current) ?? '');
      } catch {}
      next.push((current as { cause?: unknown }).cause);
      const inner = (current as { errors?: unknown }).errors;
      if (Array.isArray(inner)) next.push(...inner);
    }
    level = next;
  }
  return texts;
}
