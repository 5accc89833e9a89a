/**
 * Every text through which an error can show a secret: `String(error)`, the message, the
 * stack, its JSON (details included), and the same for each error of its `cause` chain (five
 * deep). The `connect.from-url` case looks for the URL's secret in all of them; use it in your
 * own tests of an adapter's error paths.
 */
export function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    texts.push(String(current));
    if (current instanceof Error) texts.push(current.message, current.stack ?? '');
    try {
      texts.push(JSON.stringify(current) ?? '');
    } catch {}
    current = (current as { cause?: unknown }).cause;
  }
  return texts;
}
