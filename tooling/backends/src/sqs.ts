import { buildApp } from 'fauxqs';
import { freePort } from './server-process.js';

/** A running in-process fauxqs SQS emulator. */
export interface FauxqsServer {
  /** `http://127.0.0.1:<port>`: pass it as the SQS client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Region the emulator answers for (`us-east-1`). */
  readonly region: string;
  /** Dummy credentials (fauxqs does not check them). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Stops the server and drops every queue (fauxqs keeps nothing). A second call is harmless. */
  stop(): Promise<void>;
}

/**
 * Starts the `fauxqs` SQS emulator in this process on 127.0.0.1 with a free port
 * (`buildApp({ logger: false })` + `listen({ port: 0 })`). Its queue URLs name a host
 * that does not resolve (`sqs.<region>.localhost`), so clients must set `endpoint`.
 */
export async function startFauxqs(): Promise<FauxqsServer> {
  const app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  if (!port) {
    await app.close();
    throw new Error('fauxqs did not report a listening port');
  }
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
    },
  };
}

/**
 * A loopback address where nothing listens (a port that was free a moment ago), for
 * "unreachable server" tests.
 */
export async function deadEndpoint(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
