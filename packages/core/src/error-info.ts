import type { ErrorInfo } from './adapter.js';
import { redactText, stripLegacyCodeLink } from './redact.js';

const MAX_MESSAGE = 4_000;
const MAX_STACK = 8_000;
/** An error's class name and code are short by nature; anything longer is cut. */
const MAX_NAME = 200;

/** What is stored when nothing can be read from a thrown value (its getters throw, a revoked Proxy …). */
const UNPRINTABLE = 'a value was thrown that cannot be printed';

/**
 * A serialisable summary of any thrown value, for dead letters and events: message, stack,
 * name and code are redacted ({@link redactText}: a handler's error never stores a credential in a
 * dead letter) and bounded, and the code is a field of its own, never part of the message.
 * Total: a value whose getters or `toString` throw, or a revoked Proxy, is summarised too (a
 * summary that threw would leave its job leased and redelivered past `maxAttempts`).
 */
export function toErrorInfo(error: unknown): ErrorInfo {
  try {
    return summary(error);
  } catch {
    return { message: UNPRINTABLE };
  }
}

function summary(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const { code, message, name, stack } = error as Error & { code?: unknown };
    return {
      message: clean(typeof message === 'string' ? message : textOf(message), MAX_MESSAGE),
      // Redacted too: a class name or code is free text (`GET https://…?access_token=…`).
      ...(typeof name === 'string' ? { name: clean(name, MAX_NAME) } : {}),
      ...(typeof code === 'string' ? { code: clean(code, MAX_NAME) } : {}),
      ...(typeof stack === 'string' && stack !== '' ? { stack: clean(stack, MAX_STACK) } : {}),
    };
  }
  return { message: clean(typeof error === 'string' ? error : textOf(error), MAX_MESSAGE) };
}

/** A thrown value as text: its JSON, else its string form, else {@link UNPRINTABLE}. */
function textOf(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (typeof json === 'string') return json;
  } catch {
    // a cycle, a BigInt, a throwing toJSON: try its string form
  }
  try {
    return String(value);
  } catch {
    return UNPRINTABLE;
  }
}

/** Redacted (before cutting, so no secret is cut in half past the pattern) and bounded. */
function clean(text: string, max: number): string {
  return redactText(stripLegacyCodeLink(text.slice(0, max * 2))).slice(0, max);
}
