/**
 * Every text through which an error can show a secret: `String(error)`, the message, the
 * stack, its JSON (details included) and the same for each error of the `cause` chain (five
 * deep). Tests look for their fake secrets in all of them.
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

/**
 * Throws (failing the test) when one of `secrets` appears in any text of `error` (see
 * {@link errorTexts}). `call` names what produced the error; the failure shows only the
 * first four characters of the secret that leaked.
 */
export function expectNoSecret(error: unknown, call: string, secrets: readonly string[]): void {
  const texts = errorTexts(error);
  for (const secret of secrets) {
    const where = texts.findIndex((text) => text.includes(secret));
    if (where >= 0) throw new Error(`${call}: ${secret.slice(0, 4)}… leaked into the error (text #${where} of ${texts.length})`);
  }
}
