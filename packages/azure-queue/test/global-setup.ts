import { createServer, type Server } from 'node:http';
import { type AzuriteServer, startAzurite } from '@bg/backends/azurite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection info of the private Azurite, or a skip reason. */
    azurite: { connectionString: string; queueEndpoint: string; accountName: string; controlUrl: string } | { skip: string };
  }
}

let server: AzuriteServer | undefined;
let control: Server | undefined;

/**
 * Starts a private Azurite for the test run, plus a loopback control endpoint
 * (`POST /restart`) so the durability case can restart it cleanly from a test worker.
 */
export async function setup(project: TestProject): Promise<void> {
  server = await startAzurite();
  if (!server) {
    project.provide('azurite', { skip: 'Azurite is not installed (run pnpm install)' });
    return;
  }
  const azurite = server;
  control = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/restart') {
      res.writeHead(404).end();
      return;
    }
    azurite.restart().then(
      () => res.writeHead(204).end(),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  const listening = control;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const address = listening.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  project.provide('azurite', {
    connectionString: azurite.connectionString,
    queueEndpoint: azurite.queueEndpoint,
    accountName: azurite.accountName,
    controlUrl: `http://127.0.0.1:${port}`,
  });
}

/** Stops Azurite (by PID) and the control endpoint. */
export async function teardown(): Promise<void> {
  await new Promise<void>((resolve) => (control ? control.close(() => resolve()) : resolve()));
  await server?.stop();
}
