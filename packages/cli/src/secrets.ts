import type { CliIo } from './io.js';

const SECRET_PARAM = /key|secret|token|password|connectionstring|sig/i;

/** Credentials found in URL arguments: passwords and secret-looking query values (and their parts). */
export function secretsIn(args: readonly string[]): string[] {
  const secrets = new Set<string>();
  const add = (value: string): void => {
    if (value.length < 4) return;
    secrets.add(value);
    try {
      secrets.add(decodeURIComponent(value));
    } catch {}
    secrets.add(encodeURIComponent(value));
    // Connection strings: AccountKey=…;SharedAccessSignature=…
    for (const part of value.split(';')) {
      const [k, ...v] = part.split('=');
      if (k && SECRET_PARAM.test(k) && v.length > 0) add(v.join('='));
    }
  };
  for (const arg of args) {
    for (const candidate of arg.startsWith('--') && arg.includes('=') ? [arg.slice(arg.indexOf('=') + 1)] : [arg]) {
      let url: URL;
      try {
        url = new URL(candidate);
      } catch {
        continue;
      }
      if (url.password) add(url.password);
      for (const [key, value] of url.searchParams) if (SECRET_PARAM.test(key)) add(value);
    }
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** Wraps `io` so that any of `secrets` written to stdout/stderr is replaced by `***`. */
export function scrubbingIo(io: CliIo, secrets: readonly string[]): CliIo {
  if (secrets.length === 0) return io;
  const scrub = (text: string): string => {
    let out = text;
    for (const s of secrets) out = out.split(s).join('***');
    return out;
  };
  return { ...io, out: (text) => io.out(scrub(text)), err: (text) => io.err(scrub(text)), confirm: (q) => io.confirm(scrub(q)) };
}
