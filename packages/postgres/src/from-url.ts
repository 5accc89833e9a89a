import { type PostgresAdapter, postgresAdapter } from './postgres-adapter.js';
import { parsePostgresUrl } from './postgres-url.js';

/**
 * `connect()` entry point: `postgres://[user[:password]@]host[:port]/database[?schema=bg]`
 * (`postgresql://` too). The whole URL is validated first ({@link parsePostgresUrl}).
 */
export function fromUrl(url: URL): PostgresAdapter {
  const { connectionString, ...rest } = parsePostgresUrl(url);
  return postgresAdapter({ url: connectionString, ...rest });
}

/** The URL schemes this package serves. */
export const schemes: readonly string[] = ['postgres:', 'postgresql:'];
