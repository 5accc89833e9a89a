/**
 * Redaction of JSON documents shown to people (a dead letter's body, attributes or envelope in
 * `bgctl` and the dashboard): masked value by value, so that a secret inside a string with real
 * line breaks, or a secret-named list or object, is masked as surely as a secret-named string.
 * @module
 */
import { isSecretName, REDACTED, redactText } from './redact.js';

/** `JSON.parse` with the source text of each value (ES2025; Node 21 and later). */
type ParseWithSource = (text: string, reviver: (key: string, value: unknown, context: { source?: string }) => unknown) => unknown;
/** `JSON.rawJSON` / `JSON.isRawJSON` (ES2025; Node 21 and later): numbers written with their stored digits. */
const rawJSON = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;
const isRawJSON = (JSON as unknown as { isRawJSON?: (value: unknown) => boolean }).isRawJSON;

/** Nesting past which a value is masked whole rather than walked (the walk is recursive). */
const MAX_JSON_DEPTH = 512;

/**
 * True for what a secret-named field may hold in clear: a non-empty string, a number, or a
 * non-empty list or object (`"apiKeys": ["…"]`, a JWK under `"privateKey"`). `null`, booleans and
 * empty ones say nothing and are kept.
 */
function holdsSecret(field: unknown): boolean {
  if (typeof field === 'string') return field !== '';
  if (typeof field === 'number' || typeof field === 'bigint' || isRawJSON?.(field) === true) return true;
  if (Array.isArray(field)) return field.length > 0;
  return typeof field === 'object' && field !== null && Object.keys(field).length > 0;
}

/**
 * A parsed JSON value with every string redacted ({@link redactText}, on the string itself: its
 * line breaks are real, where the JSON text has `\n` that line-start patterns such as
 * `X-Api-Key:` do not see) and every field named like a secret masked whole, lists and objects
 * too. Numbers (also `JSON.rawJSON` ones), booleans and `null` are kept; objects come back
 * without a prototype, so a `"__proto__"` key stays a field.
 *
 * @example
 * ```ts
 * redactJsonValue({ apiKeys: ['k1'], note: 'a\nX-Api-Key: k2' }) // { apiKeys: '***', note: 'a\nX-Api-Key: ***' }
 * ```
 */
export function redactJsonValue(value: unknown): unknown {
  return redactJsonAt(value, 0);
}

function redactJsonAt(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null || isRawJSON?.(value) === true) return value;
  if (depth >= MAX_JSON_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactJsonAt(item, depth + 1));
  const out: Record<string, unknown> = Object.create(null);
  for (const [name, field] of Object.entries(value)) {
    out[name] = isSecretName(name) && holdsSecret(field) ? REDACTED : redactJsonAt(field, depth + 1);
  }
  return out;
}

/**
 * A JSON text masked value by value ({@link redactJsonValue}) and written again (with `space`, as
 * `JSON.stringify`), numbers with their stored digits (a re-parsed 12345678901234567890 would
 * read 12345678901234567000). A text with nothing to mask comes back byte for byte when no
 * `space` is asked for; a text that is not JSON comes back through {@link redactText}.
 */
export function redactJsonText(text: string, space?: number): string {
  let parsed: unknown;
  try {
    parsed = (JSON.parse as ParseWithSource)(text, (_key, value, context) =>
      typeof value === 'number' && rawJSON !== undefined && context?.source !== undefined ? rawJSON(context.source) : value,
    );
  } catch {
    return redactText(text);
  }
  try {
    const masked = JSON.stringify(redactJsonValue(parsed), null, space);
    return space === undefined && masked === JSON.stringify(parsed) ? text : masked;
  } catch {
    // Nested deeper than JSON.stringify goes: redacted as text.
    return redactText(text);
  }
}
