import { readFileSync } from 'node:fs';

/**
 * The installed `@bg/cli` version, read from its own `package.json` (one directory above both
 * `src/` and `dist/`), so `bgctl --version` never disagrees with what npm installed.
 */
export function cliVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
