import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type LocalServer, managedServer, skipMissing } from './managed-server.js';
import { freePort, makeDataDir, removeDataDir } from './server-process.js';

/** The well-known Azurite development account name. */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
/** The published key of the Azurite development account (not a secret). */
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * A running private Azurite queue service (`dataDir`: its `--location`; `restart()`: a clean
 * SIGTERM, then a start; `stop()` keeps a data folder the caller gave).
 */
export interface AzuriteServer extends LocalServer {
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  readonly queueEndpoint: string;
  /** Connection string for `QueueServiceClient.fromConnectionString`. */
  readonly connectionString: string;
  readonly accountName: string;
  readonly accountKey: string;
}

/** Options of {@link startAzurite}. */
export interface StartAzuriteOptions {
  /** Use this data folder (kept on stop) instead of a fresh temporary one (removed on stop). */
  readonly dataDir?: string;
  /** Readiness timeout, ms (default 60 000: Azurite 3.37 takes tens of seconds to start on a loaded machine). */
  readonly readyTimeoutMs?: number;
}

/** Path of the `azurite-queue` entry script, or undefined when the npm package is missing. */
export function azuriteQueueBin(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('azurite/package.json');
    const bin = join(dirname(pkg), 'dist', 'src', 'queue', 'main.js');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the connection string of the development account for a queue endpoint. */
export function azuriteConnectionString(queueEndpoint: string, accountKey = AZURITE_ACCOUNT_KEY): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${accountKey};QueueEndpoint=${queueEndpoint};`;
}

async function answers(endpoint: string): Promise<boolean> {
  // Any HTTP answer (even 403 for the unsigned request) means the server is up.
  const response = await fetch(`${endpoint}?comp=list`, { signal: AbortSignal.timeout(1_000) });
  await response.arrayBuffer();
  return true;
}

/**
 * Starts a private Azurite queue service on 127.0.0.1 with a free port and its own data
 * folder. Resolves undefined (after logging why) when Azurite is not installed and `CI` is
 * not set; in CI a missing Azurite throws.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteServer | undefined> {
  const bin = azuriteQueueBin();
  if (!bin) return skipMissing('Azurite', 'pnpm install (npm package "azurite" in tooling/backends)');
  const host = '127.0.0.1';
  const port = await freePort();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? makeDataDir('azurite');
  const queueEndpoint = `http://${host}:${port}/${AZURITE_ACCOUNT_NAME}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const args = [
    bin,
    '--queueHost',
    host,
    '--queuePort',
    String(port),
    '--location',
    dataDir,
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
  ];
  const server = managedServer({
    name: 'Azurite',
    where: `${host}:${port}`,
    command: process.execPath,
    args,
    ready: () => answers(queueEndpoint),
    readyTimeoutMs,
  });
  await server.start();
  return {
    host,
    port,
    queueEndpoint,
    connectionString: azuriteConnectionString(queueEndpoint),
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    dataDir,
    get pid() {
      return server.pid;
    },
    async restart() {
      await server.stop('SIGTERM', 10_000);
      await server.start();
    },
    async stop() {
      await server.stop('SIGTERM', 5_000);
      if (ownDir) removeDataDir(dataDir);
    },
  };
}
