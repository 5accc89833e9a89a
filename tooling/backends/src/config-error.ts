import { type BgErrorCode, isBgError } from '@bg/core';
import { expectNoSecret } from './secrets.js';

/** What a configuration error must look like (see {@link expectConfigError}). */
export interface ConfigErrorRule {
  /** What the message must match: it names the part of the configuration that is wrong. */
  readonly names: RegExp;
  /** Fake secrets that must appear in no text of the error (see `errorTexts`). */
  readonly secrets?: readonly string[];
  /** The codes accepted. Default: `INVALID_ARGUMENT` only. */
  readonly codes?: readonly BgErrorCode[];
}

/**
 * Throws (failing the test) unless `error` is a configuration error: a `BgError` of one of
 * the rule's codes (`INVALID_ARGUMENT` by default), never retryable, whose message matches
 * `names`, with none of `secrets` in any of its texts. `call` names what produced it.
 */
export function expectConfigError(error: unknown, call: string, rule: ConfigErrorRule): void {
  const codes = rule.codes ?? ['INVALID_ARGUMENT'];
  if (!codes.some((code) => isBgError(error, code))) {
    throw new Error(`${call}: ${codes.join(' or ')} expected, got ${String(error)}`);
  }
  if ((error as { retryable?: unknown }).retryable !== false) {
    throw new Error(`${call}: a configuration error is never retryable, got retryable: true`);
  }
  const message = (error as Error).message;
  if (!rule.names.test(message)) {
    throw new Error(`${call}: the message should name what is wrong (${rule.names}), got "${message}"`);
  }
  expectNoSecret(error, call, rule.secrets ?? []);
}

/**
 * The error `fn` throws or rejects with. Throws (failing the test) when `fn` succeeds.
 */
export async function failureOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, the call succeeded');
}

/** Something {@link expectAdapterOrConfigError} can close: an adapter. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * For property tests over generated URLs: `open()` either gives an adapter (closed at once) or
 * throws a configuration error that passes {@link expectConfigError}; never a crash of another
 * kind, never a leak of a secret.
 */
export async function expectAdapterOrConfigError(
  open: () => Closable | Promise<Closable>,
  call: string,
  rule: ConfigErrorRule,
): Promise<void> {
  let adapter: Closable;
  try {
    adapter = await open();
  } catch (error) {
    expectConfigError(error, call, rule);
    return;
  }
  await adapter.close();
}

/**
 * `new URL(text)`, or `undefined` when the WHATWG parser refuses it (`connect()` reports those,
 * in @bg/core: a property test of an adapter's `fromUrl` skips them).
 */
export function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
