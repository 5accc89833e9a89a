import { type Adapter, connect, redactUrl } from '@bg/core';
import { loadAdapterPackages } from './adapter-packages.js';
import { UsageError } from './exit-codes.js';
import { shownNonUrl } from './secrets.js';

/** Adapter packages named by `--adapter` / `$BGCTL_ADAPTERS`, loaded before the first connection. */
let adapterPackages: { names: readonly string[]; cwd: string } = { names: [], cwd: process.cwd() };

/**
 * Names the third-party adapter packages (see `loadAdapterPackages`) that {@link openBackend}
 * loads and registers before it connects. `runCli` calls it with `--adapter` and
 * `$BGCTL_ADAPTERS`; loading waits until a command really opens a backend.
 */
export function useAdapterPackages(names: readonly string[], cwd: string): void {
  adapterPackages = { names: [...names], cwd };
}

/**
 * Connects to a backend URL with `connect()` of `@bg/core`, loading the adapter package
 * from the CLI's own install (so adapters installed beside `@bg/cli` are found). Adapter
 * packages named with {@link useAdapterPackages} are registered first, so their schemes work.
 */
export async function openBackend(url: string): Promise<Adapter> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`not a backend URL: ${shownNonUrl(redactUrl(url))} (e.g. redis://127.0.0.1:6379)`);
  }
  if (adapterPackages.names.length > 0) await loadAdapterPackages(adapterPackages.names, adapterPackages.cwd);
  return connect(parsed, { load: (name) => import(name) });
}

/** Runs `body` with an open adapter and always closes it afterwards. */
export async function withBackend<T>(url: string, body: (adapter: Adapter) => Promise<T>): Promise<T> {
  const adapter = await openBackend(url);
  try {
    return await body(adapter);
  } finally {
    await adapter.close();
  }
}
