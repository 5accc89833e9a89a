import { type Adapter, connect, redactUrl } from '@bg/core';
import { UsageError } from './exit-codes.js';

/**
 * Connects to a backend URL with `connect()` of `@bg/core`, loading the adapter package
 * from the CLI's own install (so adapters installed beside `@bg/cli` are found).
 */
export async function openBackend(url: string): Promise<Adapter> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`not a backend URL: ${redactUrl(url)} (e.g. redis://127.0.0.1:6379)`);
  }
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
