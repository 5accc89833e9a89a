import { type Adapter, BgError, connect } from '@bg/core';

/**
 * `connect(url)` of `@bg/core`, loading the adapter packages installed beside this app.
 * `memory:` is refused: the service and the workers are separate processes and need a
 * backend they can share.
 */
export async function connectBackend(url: string | undefined): Promise<Adapter> {
  if (!url) throw new BgError('INVALID_ARGUMENT', 'set BG_URL to the backend, e.g. redis://127.0.0.1:6379 (see README)');
  if (url.startsWith('memory:')) {
    throw new BgError('INVALID_ARGUMENT', 'memory: cannot be shared between the service and worker processes');
  }
  return connect(url, { load: (name) => import(name) });
}
