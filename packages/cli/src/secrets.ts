import { isSecretName, REDACTED, redactText } from '@bg/core';
import type { CliIo } from './io.js';

/**
 * The credentials in the CLI's arguments and in `BG_URL`: URL passwords (and the access key
 * id an `sqs://` URL gives as user name), secret query values and the secret parts inside
 * them (a connection string's `AccountKey`, a SAS token's `sig`), each also percent-encoded
 * and decoded, longest first. Anything the CLI prints is scrubbed of these values, whatever
 * path led there, on top of {@link redactText}.
 */
export function secretsIn(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const secrets = new Set<string>();
  const add = (value: string): void => {
    if (value.length < 4 || value === REDACTED || secrets.has(value)) return;
    secrets.add(value);
    try {
      secrets.add(decodeURIComponent(value));
    } catch {}
    secrets.add(encodeURIComponent(value));
    // Connection strings (AccountKey=…;SharedAccessSignature=…) and SAS tokens (…&sig=…).
    for (const part of value.split(/[;&]/)) {
      const eq = part.indexOf('=');
      if (eq > 0 && isSecretName(part.slice(0, eq).trim())) add(part.slice(eq + 1));
    }
  };
  const candidates = [...args, env.BG_URL ?? ''].flatMap((arg) =>
    arg.startsWith('--') && arg.includes('=') ? [arg.slice(arg.indexOf('=') + 1)] : [arg],
  );
  // The dashboard's access token: never printed on purpose, but a token given where a URL was
  // expected (`--token` forgotten) is echoed as that URL.
  add(env.BG_DASHBOARD_TOKEN ?? '');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--token') add(args[i + 1] ?? '');
    else if (arg.startsWith('--token=')) add(arg.slice('--token='.length));
  }
  for (const candidate of candidates) {
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      // Not a URL (a bad port, or a password with an unencoded "/", "?" or "#", as AWS secret
      // keys often have): take what follows "user:" up to the last "@".
      // A newline in the password is part of it (it broke the URL).
      const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^\s/?#@:]*):([\s\S]*)@/i.exec(candidate);
      if (userinfo?.[2]) add(userinfo[2]);
      continue;
    }
    if (url.password) add(url.password);
    // SQS URLs carry the access key id as user name; a long user name alone is a token.
    if (url.username && (url.protocol === 'sqs:' || (!url.password && url.username.length >= 16))) add(url.username);
    for (const [key, value] of url.searchParams) {
      if (isSecretName(key)) add(value);
      else if (/[=;&]/.test(value)) add(value.split(/[?]/).slice(1).join('?'));
    }
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/**
 * An argument that should have been a backend URL, as an error may show it: what
 * {@link redactText} leaves of it, unless it reads like a token or key (16 or more letters, digits
 * and `+/=_.-`, with both letters and digits, no scheme): a dashboard token given where the URL
 * goes (`--token` forgotten) is not echoed, only its length.
 */
export function shownNonUrl(text: string): string {
  if (text.length >= 16 && /^[A-Za-z0-9+/=_.-]+$/.test(text) && /[0-9]/.test(text) && /[A-Za-z]/.test(text)) {
    return `(a ${text.length}-character value that reads like a token or key, not shown)`;
  }
  return redactText(text);
}

/** The fewest first characters of a secret masked where a message cut the text after them. */
const MIN_CUT_SECRET = 6;

/**
 * `text` with the start of a secret masked where the text was cut right after it (an echo cut at
 * `…`, maybe after the closing quote of a JSON string): a cut secret no longer matches whole.
 */
function maskCutSecrets(text: string, secrets: readonly string[]): string {
  if (!text.includes('…')) return text;
  let out = text;
  for (let at = out.indexOf('…'); at >= 0; at = out.indexOf('…', at + 1)) {
    const end = out[at - 1] === '"' ? at - 1 : at;
    for (const s of secrets) {
      let k = Math.min(s.length - 1, end);
      while (k >= MIN_CUT_SECRET && out.slice(end - k, end) !== s.slice(0, k)) k--;
      if (k >= MIN_CUT_SECRET) {
        out = `${out.slice(0, end - k)}${REDACTED}${out.slice(end)}`;
        at = end - k + REDACTED.length + (at - end);
        break;
      }
    }
  }
  return out;
}

/**
 * `text` without the exact `secrets` (and the start of one cut short at `…`), then without what
 * {@link redactText} finds.
 */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(REDACTED);
  return redactText(maskCutSecrets(out, secrets));
}

/**
 * A value a secret-named field may hold in clear: a non-empty string, a number (`"password": 1234`),
 * or a non-empty list or object (`"apiKeys": ["…"]`, a JWK under `"privateKey"`: every value in it).
 * `null`, booleans and empty ones say nothing.
 */
function isSecretValue(field: unknown): boolean {
  if (typeof field === 'string') return field !== '';
  if (typeof field === 'number' || typeof field === 'bigint') return true;
  if (Array.isArray(field)) return field.length > 0;
  return typeof field === 'object' && field !== null && Object.keys(field).length > 0;
}

/**
 * A copy of a JSON value for `--json` output, scrubbed field by field: every string through
 * {@link scrubText} (a body holding `{"password":"…"}` is a string, whose quotes the JSON text
 * would escape past the patterns), every field named like a secret masked: a string, a number, a
 * list or an object ({@link isSecretValue}).
 * Other numbers, booleans and the JSON syntax are never touched, so the output stays valid JSON
 * whatever the password is (a password `false` scrubbed from the text made `"duplicate": ***`).
 */
export function scrubValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets));
  if (typeof value !== 'object' || value === null) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[scrubText(name, secrets)] = isSecretName(name) && isSecretValue(field) ? REDACTED : scrubValue(field, secrets);
  }
  return out;
}

/**
 * Wraps `io` so that everything written to stdout/stderr (and every confirmation question) is
 * redacted: first the exact `secrets` the command was given, then {@link redactText}'s
 * patterns (passwords in URLs, keys, SAS signatures, tokens) for anything else.
 */
export function scrubbingIo(io: CliIo, secrets: readonly string[]): CliIo {
  const scrub = (text: string): string => scrubText(text, secrets);
  return { ...io, out: (text) => io.out(scrub(text)), err: (text) => io.err(scrub(text)), confirm: (q) => io.confirm(scrub(q)) };
}
