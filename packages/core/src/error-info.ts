import type { ErrorInfo } from './adapter.js';

const MAX_MESSAGE = 4_000;
const MAX_STACK = 8_000;

/** A serialisable summary of any thrown value, for dead letters and events. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      message: error.message.slice(0, MAX_MESSAGE),
      name: error.name,
      ...(typeof code === 'string' ? { code } : {}),
      ...(error.stack ? { stack: error.stack.slice(0, MAX_STACK) } : {}),
    };
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    message = String(error);
  }
  return { message: message.slice(0, MAX_MESSAGE) };
}
