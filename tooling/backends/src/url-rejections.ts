import { connect } from '@bg/core';
import { expectConfigError, failureOf } from './config-error.js';

/** One row of an adapter's table of bad URLs: the URL, and what the error message must name. */
export type BadUrl = readonly [url: string, names: RegExp];

/** How {@link urlRejectionTests} opens and checks the bad URLs. */
export interface UrlRejectionOptions {
  /** Fake secrets in the URLs: never in the error, and shown as `…` in test names. */
  readonly secrets?: readonly string[];
  /** Opens a URL. Default: `connect(url)` from @bg/core. */
  readonly open?: (url: string) => unknown;
}

/** A test to register: `for (const t of urlRejectionTests(…)) it(t.name, t.run)`. */
export interface UrlRejectionTest {
  readonly name: string;
  readonly run: () => Promise<void>;
}

/** `text` with every one of `secrets` (longest first) shown as `…`. */
export function hideSecrets(text: string, secrets: readonly string[]): string {
  return [...secrets]
    .filter((secret) => secret !== '')
    .sort((a, b) => b.length - a.length)
    .reduce((shown, secret) => shown.split(secret).join('…'), text);
}

/**
 * One test per bad URL: opening it (`connect()` by default) fails with a configuration error —
 * `INVALID_ARGUMENT`, not retryable, naming what is wrong, without any of the secrets (see
 * `expectConfigError`). Test names show the URL with its secrets hidden.
 */
export function urlRejectionTests(bad: readonly BadUrl[], options: UrlRejectionOptions = {}): UrlRejectionTest[] {
  const secrets = options.secrets ?? [];
  const open = options.open ?? connect;
  return bad.map(([url, names]) => {
    const shown = hideSecrets(url, secrets);
    return {
      name: `rejects ${shown}`,
      run: async () => expectConfigError(await failureOf(() => open(url)), `connect(${shown})`, { names, secrets }),
    };
  });
}
