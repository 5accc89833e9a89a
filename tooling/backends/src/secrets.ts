import { errorTexts } from '@bg/conformance';

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
