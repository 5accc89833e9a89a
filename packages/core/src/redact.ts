/**
 * The one redaction of bg: URLs, connection strings, option objects and free text lose their
 * credentials before anything is printed, logged, thrown or stored in a dead letter.
 * @module
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '***';

/**
 * Names of parameters, fields and connection-string parts whose values are secret:
 * passwords, AWS secret keys and session tokens, Azure account keys, SAS signatures (`sig`)
 * and whole SAS tokens (`sas`, `SharedAccessSignature`), connection strings, bearer and
 * OAuth tokens, client secrets, private keys, credentials JSON. SAS fields that are not
 * secret (`sv`, `se`, `sp` …) are kept so a redacted URL still says what it grants.
 */
const SECRET_NAME =
  /pass(word|wd|phrase)?$|^pwd$|secret|token|^sig$|signature|^sas$|credential|connection_?string|private_?key|account_?key|access_?key|api_?key|^auth(orization)?$|cookie/i;

/** True when a parameter, field or connection-string part of this name holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name.replaceAll('-', '_'));
}

/** AWS access key ids (long-term `AKIA…`, temporary `ASIA…`). */
const AWS_ACCESS_KEY_ID = /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g;
/**
 * Tokens recognisable by their own shape, wherever they stand (a bare token in a handler's error
 * message has no `token=` before it): GitHub (`ghp_…`, `github_pat_…`), GitLab (`glpat-…`), Slack
 * (`xoxb-…`) and its webhook paths, npm (`npm_…`), Google API keys (`AIza…`) and OAuth access
 * tokens (`ya29.…`), Stripe secret and restricted keys, OpenAI/Anthropic-style `sk-…` keys, and
 * JSON Web Tokens (`eyJ….eyJ….…`).
 */
const WELL_KNOWN_TOKEN = new RegExp(
  [
    String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,})`,
    String.raw`\bxox[abeoprs]-[A-Za-z0-9-]{10,}`,
    String.raw`(?<=hooks\.slack\.com/services/)[A-Za-z0-9/]+`,
    String.raw`\bnpm_[A-Za-z0-9]{36,}`,
    String.raw`\bAIza[0-9A-Za-z_-]{35}`,
    String.raw`\bya29\.[0-9A-Za-z_-]{20,}`,
    String.raw`\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}`,
    String.raw`\bsk-[A-Za-z0-9_-]{32,}`,
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`,
  ].join('|'),
  'g',
);
/** PEM private keys, also inside JSON strings (`\n` escaped). */
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
/** HTTP authorization values: `Bearer <token>`, `Token <token>`, `Basic <base64>`, `SharedKey <account>:<signature>`. */
const AUTH_SCHEME =
  /\b((?:Bearer|Token)\s+)[\w\-.~+/]+=*|\b(Basic\s+)[A-Za-z0-9+/]{8,}=*|\b(SharedKey(?:Lite)?\s+[^\s:]+:)[A-Za-z0-9+/]+=*/g;
/** `scheme://user:password@` — also in text that is not a valid URL (a bad port, say). */
const USERINFO = /(?<![a-z0-9+.-])((?:[a-z][a-z0-9+.-]*:)?\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;
/**
 * The user information of a URL that does not parse, up to the last `@` of the token: a
 * password with an unencoded `/`, `?` or `#` (AWS secret keys often have a `/`) ends the
 * authority early, so {@link USERINFO} alone would stop inside it.
 */
const BROKEN_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):(.*)@/i;
/**
 * A user name this long without a password is taken for a token (`https://<token>@host`, as Git
 * hosts take them); real user names are shorter.
 */
const TOKEN_USER_LENGTH = 16;
/** URLs inside free text. */
const URL_IN_TEXT = /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
/**
 * `name=value` in query strings, connection strings and `key=value` logs, also at the start of a
 * quoted value (`"AccountKey=…;AccountName=…"` in a JSON payload, `'token=…'`, `` `sig=…` ``), and
 * `name = value` with spaces on both sides (config files); `name= value` is prose ("give one of
 * accountKey= or sas="), not an assignment.
 */
const ASSIGNMENT = /(^|[?&;,\s({["'`])([A-Za-z_][\w.-]*)(\s+=[ \t]+|\s*=)([^&;,\s"'`<>)}\]]*)/g;
/**
 * `"name": "value"` (JSON), `name: 'value'` (util.inspect) and `name='value'` (libpq, logs) pairs.
 * The value is one run of plain characters after another, each escape between two (`[^"\\]*(?:\\.[^"\\]*)*`):
 * written as one alternation repeated per character, the pattern ran out of stack on a string of
 * about 10 MB (a large dead-letter body), and every text around it went unredacted.
 */
const QUOTED_PAIR =
  /(?<![\w.-])(["']?)([A-Za-z_][\w.-]*)\1(\s*[:=]\s*)(?:"([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)')/g;
/**
 * `name:` before a value without quotes (HTTP headers, YAML, `{ password: x }` as people write
 * it, and a JSON number: `"pin": 1234`, quoted or escaped in a JSON string). Only the name and the colon are matched, so that a name that is not secret does not
 * swallow the next one; {@link redactBarePairs} masks the word after a secret one.
 */
const BARE_NAME = /(?<=^|[\s{([,;])(\\*["']?)([A-Za-z_][\w.-]*)\1\s*:[ \t]*/g;
/** The unquoted word a {@link BARE_NAME} names. */
const BARE_VALUE = /^(?!["'])[^\s,;{}()[\]]+/;
/** A masked value in quotes escaped inside a JSON string (`\"***\"`): masked already, by {@link ESCAPED_PAIR}. */
const ESCAPED_MASK = /^\\+["']\*\*\*\\+["']/;
/**
 * `\"name\":\"value\"`: a JSON pair inside a JSON string (a payload field holding JSON, a
 * body printed as a string), at any depth of escaping. The value ends at a quote escaped as
 * many times as the name's (`\\\"` inside it is a quote one level deeper); at most 4 096
 * characters are looked at. A match starts only where a run of backslashes starts: tried at every
 * backslash of a long run, the pattern took time quadratic in its length (200 000 backslashes in a
 * payload held the process for 35 s).
 */
const ESCAPED_PAIR = /(?<!\\)(\\+)"([A-Za-z_][\w.-]*)\1"(\s*:\s*)\1"((?:(?!(?<!\\)\1")[\s\S]){0,4096}?)(?<!\\)\1"/g;
/** `Authorization:`, `Proxy-Authorization:`, `Cookie:` and `Set-Cookie:` lines: their whole value is secret. */
const SECRET_HEADER = /(^|[\s{([,;])((?:proxy-)?authorization|(?:set-)?cookie)(\s*:[ \t]*)([^\r\n]+)/gi;
/** The link suffix older `@bg/core` versions appended to messages. */
const LEGACY_CODE_LINK = /\s*\[[A-Z_]+: https:\/\/bg\.dev\/errors#[a-z-]+\]/g;

/**
 * Free text with every credential it holds masked: passwords in URLs (parsed or not),
 * secret query and connection-string parameters, JSON and object fields, bearer tokens,
 * AWS access key ids, PEM private keys and tokens of well-known shapes (GitHub, GitLab, Slack,
 * npm, Google, Stripe, `sk-…` API keys, JSON Web Tokens).
 *
 * @example
 * ```ts
 * redactText('cannot reach redis://:hunter2@db:6379') // 'cannot reach redis://:***@db:6379'
 * ```
 */
export function redactText(text: string): string {
  // Called from plain JavaScript too: anything else is redacted as its string form.
  if (typeof text !== 'string') return redactText(String(text));
  const out = text.replace(PRIVATE_KEY, `${REDACTED}private key${REDACTED}`);
  return redactPatterns(out.replace(URL_IN_TEXT, (url) => redactParsedUrl(url) ?? redactBrokenUrl(url)));
}

/** A URL that does not parse, its user information masked up to its last `@` ({@link BROKEN_USERINFO}). */
function redactBrokenUrl(url: string): string {
  return url.replace(BROKEN_USERINFO, maskUserinfo);
}

/** The replacement of a `scheme://user:password@` match: the password masked, the user name as {@link maskUser} has it. */
function maskUserinfo(_match: string, scheme: string, user: string): string {
  return `${scheme}${maskUser(scheme, user)}:${REDACTED}@`;
}

/** The patterns of {@link redactText} that do not need a parsed URL. */
function redactPatterns(text: string): string {
  let out = text.replace(USERINFO, maskUserinfo);
  out = out.replace(AUTH_SCHEME, (_m, ...lead: unknown[]) => `${lead.slice(0, 3).find((x) => typeof x === 'string')}${REDACTED}`);
  out = out.replace(
    QUOTED_PAIR,
    (match, q: string, name: string, sep: string, dq: string | undefined, sq: string | undefined) => {
      const value = dq ?? sq ?? '';
      const vq = dq !== undefined ? '"' : "'";
      return isSecretName(name) && value !== '' && value !== REDACTED ? `${q}${name}${q}${sep}${vq}${REDACTED}${vq}` : match;
    },
  );
  out = out.replace(ESCAPED_PAIR, (match, esc: string, name: string, sep: string, value: string) =>
    isSecretName(name) && value !== '' && value !== REDACTED ? `${esc}"${name}${esc}"${sep}${esc}"${REDACTED}${esc}"` : match,
  );
  out = out.replace(ASSIGNMENT, (match, lead: string, name: string, eq: string, value: string) =>
    isSecretName(name) && value !== '' && value !== REDACTED ? `${lead}${name}${eq}${REDACTED}` : match,
  );
  out = out.replace(SECRET_HEADER, (match, lead: string, name: string, sep: string, value: string) =>
    /^(\*\*\*\s*)+$/.test(value.trim()) ? match : `${lead}${name}${sep}${REDACTED}`,
  );
  out = redactBarePairs(out);
  return out.replace(AWS_ACCESS_KEY_ID, REDACTED).replace(WELL_KNOWN_TOKEN, REDACTED);
}

/** `text` with the word after each secret `name:` ({@link BARE_NAME}) masked. */
function redactBarePairs(text: string): string {
  let out = '';
  let last = 0;
  BARE_NAME.lastIndex = 0;
  for (let m = BARE_NAME.exec(text); m !== null; m = BARE_NAME.exec(text)) {
    if (!isSecretName(m[2] as string)) continue;
    const start = m.index + m[0].length;
    const word = BARE_VALUE.exec(text.slice(start, start + 4_096))?.[0];
    if (word === undefined || word === REDACTED || ESCAPED_MASK.test(word)) continue;
    // `"password": null` in JSON holds no secret; a number or a bare word does.
    if (m[1] !== '' && (word === 'null' || word === 'true' || word === 'false')) continue;
    out += `${text.slice(last, start)}${REDACTED}`;
    last = start + word.length;
    BARE_NAME.lastIndex = last;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * A URL with its credentials masked: the password (and an AWS access key id given as user
 * name), secret query parameters, and secrets inside parameters that hold a connection
 * string, a SAS token or another URL. Text that does not parse as a URL is redacted as
 * free text, so a malformed URL never leaks its password either.
 *
 * @example
 * ```ts
 * redactUrl('azure-queue://acct?sas=sv%3D2022%26sig%3Dabc') // 'azure-queue://acct?sas=***'
 * ```
 */
export function redactUrl(url: string | URL): string {
  const text = String(url);
  const parsed = redactParsedUrl(text);
  return parsed === undefined ? redactText(redactBrokenUrl(text)) : redactPatterns(parsed);
}

/** `text` as a URL with its secrets masked; `text` itself when it has none; undefined when not a URL. */
function redactParsedUrl(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  let changed = false;
  const withPassword = u.password !== '';
  if (withPassword) {
    u.password = REDACTED;
    changed = true;
  }
  if (u.username) {
    const user = decodeURIComponentSafe(u.username);
    const masked = withPassword ? maskUser(u.protocol, user) : maskLoneUser(u.protocol, user);
    if (masked !== user) {
      u.username = masked;
      changed = true;
    }
  }
  if (u.search.length > 1) {
    const search = u.search.slice(1).split('&').map(redactQueryPair).join('&');
    if (search !== u.search.slice(1)) {
      u.search = search;
      changed = true;
    }
  }
  if (u.hash) {
    const hash = decodeURIComponentSafe(u.hash.slice(1));
    const redacted = redactText(hash);
    if (redacted !== hash) {
      u.hash = redacted;
      changed = true;
    }
  }
  return changed ? u.toString() : text;
}

/** One raw `name=value` of a query string, its value masked when secret (kept as written otherwise). */
function redactQueryPair(pair: string): string {
  const eq = pair.indexOf('=');
  if (eq < 0) return pair;
  const name = decodeQueryPart(pair.slice(0, eq));
  const raw = pair.slice(eq + 1);
  if (raw === '') return pair;
  if (isSecretName(name)) return `${pair.slice(0, eq)}=${REDACTED}`;
  const value = decodeQueryPart(raw);
  if (!/[=:]/.test(value)) return pair;
  const redacted = redactText(value);
  return redacted === value ? pair : `${pair.slice(0, eq)}=${encodeURIComponent(redacted)}`;
}

function decodeQueryPart(text: string): string {
  return decodeURIComponentSafe(text.replaceAll('+', ' '));
}

function maskUser(scheme: string, user: string): string {
  // SQS URLs carry the access key id as user name.
  if (/^sqs:/i.test(scheme) && user !== '') return REDACTED;
  return user.replace(AWS_ACCESS_KEY_ID, REDACTED);
}

/** A user name given without a password: masked when it is long enough to be a token ({@link TOKEN_USER_LENGTH}). */
function maskLoneUser(scheme: string, user: string): string {
  return user.length >= TOKEN_USER_LENGTH ? REDACTED : maskUser(scheme, user);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A copy of an option object, `details` record or other value with every secret field
 * masked and every string redacted as free text ({@link redactText}). Values without
 * secrets come back unchanged (the same reference). Depth and cycles are bounded.
 *
 * @example
 * ```ts
 * redactValue({ accountName: 'a', accountKey: 'k' }) // { accountName: 'a', accountKey: '***' }
 * ```
 */
export function redactValue<T>(value: T): T {
  return redactAt(value, 0, new WeakSet()) as T;
}

const MAX_DEPTH = 8;

function redactAt(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value instanceof URL) return redactUrl(value);
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH || seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) {
    const items = value.map((item) => redactAt(item, depth + 1, seen));
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    const next =
      isSecretName(name) && field !== undefined && field !== null && field !== '' ? REDACTED : redactAt(field, depth + 1, seen);
    if (next !== field) changed = true;
    out[name] = next;
  }
  return changed ? out : value;
}

/**
 * Masks, in place, the secrets an error object carries: its message and stack, string and
 * plain-object fields (as {@link redactValue} does), down its `cause` chain. Used on the
 * `cause` of every {@link BgError}, so a driver error kept for debugging cannot leak the
 * URL, connection string or option object it was built from. The object keeps its class.
 */
export function redactError(error: unknown): void {
  redactErrorAt(error, new WeakSet(), 0);
}

/** {@link redactError} of `error` and its `cause` chain, and of the errors an `AggregateError` holds. */
function redactErrorAt(error: unknown, seen: WeakSet<object>, nesting: number): void {
  let current: unknown = error;
  for (let depth = 0; typeof current === 'object' && current !== null && depth < MAX_DEPTH; depth++) {
    if (seen.has(current)) return;
    seen.add(current);
    redactStackAccessor(current);
    // An AggregateError (Node's connect to every address of a host, say) holds its errors in
    // `errors`: class instances, which the field loop below leaves alone.
    const inner = (current as { errors?: unknown }).errors;
    if (Array.isArray(inner) && nesting < 2) {
      for (const item of inner.slice(0, 32)) if (item instanceof Error) redactErrorAt(item, seen, nesting + 1);
    }
    for (const name of Object.getOwnPropertyNames(current)) {
      if (name === 'cause') continue;
      const descriptor = Object.getOwnPropertyDescriptor(current, name);
      if (!descriptor || !('value' in descriptor) || !descriptor.writable) continue;
      const value: unknown = descriptor.value;
      const next = isSecretName(name) && typeof value === 'string' && value !== '' ? REDACTED : redactAt(value, 1, new WeakSet());
      if (next === value) continue;
      try {
        (current as Record<string, unknown>)[name] = next;
      } catch {
        // frozen: nothing to do
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
}

/**
 * An error's `stack` when V8 keeps it as an own accessor (Node 22+, until something assigns it):
 * the loop of {@link redactError} only rewrites stored values, so it is read, redacted and
 * written back through the setter here. Once read, the stack holds the message as it was then.
 */
function redactStackAccessor(error: object): void {
  const descriptor = Object.getOwnPropertyDescriptor(error, 'stack');
  if (!descriptor || 'value' in descriptor || !descriptor.get || !descriptor.set) return;
  try {
    const stack: unknown = (error as { stack?: unknown }).stack;
    if (typeof stack !== 'string') return;
    const redacted = redactText(stack);
    if (redacted !== stack) (error as { stack?: unknown }).stack = redacted;
  } catch {
    // a getter that throws: nothing to mask
  }
}

/** A message without the `[CODE: https://bg.dev/errors#…]` suffix older versions added. */
export function stripLegacyCodeLink(message: string): string {
  return message.replace(LEGACY_CODE_LINK, '');
}
