import type { ErrorInfo } from './adapter.js';
import { redactText, stripLegacyCodeLink } from './redact.js';

const MAX_MESSAGE = 4_000;
const MAX_STACK = 8_000;

/**
 * A serialisable summary of any thrown value, for dead letters and events: message and
 * stack are redacted ({@link redactText}: a handler's error never stores a credential in a
 * dead letter) and bounded, and the code is a field of its own, never part of the message.
 */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      message: clean(error.message, MAX_MESSAGE),
      name: error.name,
      ...(typeof code === 'string' ? { code } : {}),
      ...(error.stack ? { stack: clean(error.stack, MAX_STACK) } : {}),
    };
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    message = String(error);
  }
  return { message: clean(message, MAX_MESSAGE) };
}

/** Redacted (before cutting, so no secret is cut in half past the pattern) and bounded. */
function clean(text: string, max: number): string {
  return redactText(stripLegacyCodeLink(text.slice(0, max * 2))).slice(0, max);
}
