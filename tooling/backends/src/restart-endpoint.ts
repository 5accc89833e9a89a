import { createServer } from 'node:http';

/** A loopback HTTP endpoint that restarts a test server (see {@link serveRestart}). */
export interface RestartEndpoint {
  /** `http://127.0.0.1:<port>/restart`: pass it to the test workers. */
  readonly url: string;
  /** Stops serving. */
  close(): Promise<void>;
}

/**
 * Serves `/restart` on a free loopback port for test files, which run in worker processes
 * while the server was started by the global setup: any request to it awaits `restart()`
 * and answers 200 (500 with the error). Other paths are 404.
 */
export async function serveRestart(restart: () => Promise<void>): Promise<RestartEndpoint> {
  const server = createServer((req, res) => {
    if (req.url !== '/restart') {
      res.writeHead(404).end();
      return;
    }
    restart().then(
      () => res.writeHead(200).end('ok'),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/restart`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Asks a {@link serveRestart} endpoint for a restart; throws with its answer when it failed. */
export async function requestRestart(url: string): Promise<void> {
  const response = await fetch(url, { method: 'POST' });
  const text = await response.text();
  if (!response.ok) throw new Error(`restart through ${url} failed: ${response.status} ${text}`);
}
