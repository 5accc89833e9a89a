import { type RestartEndpoint, serveRestart } from '@bg/backends';
import { type AzuriteServer, startAzurite } from '@bg/backends/azurite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection info of the private Azurite, or a skip reason. */
    azurite: { connectionString: string; queueEndpoint: string; accountName: string; restartUrl: string } | { skip: string };
  }
}

let server: AzuriteServer | undefined;
let control: RestartEndpoint | undefined;

/**
 * Starts a private Azurite for the test run, plus a loopback restart endpoint
 * (`serveRestart`) so the durability case can restart it cleanly from a test worker.
 */
export async function setup(project: TestProject): Promise<void> {
  server = await startAzurite();
  if (!server) {
    project.provide('azurite', { skip: 'Azurite is not installed (run pnpm install)' });
    return;
  }
  const azurite = server;
  control = await serveRestart(() => azurite.restart());
  project.provide('azurite', {
    connectionString: azurite.connectionString,
    queueEndpoint: azurite.queueEndpoint,
    accountName: azurite.accountName,
    restartUrl: control.url,
  });
}

/** Stops Azurite (by PID) and the restart endpoint. */
export async function teardown(): Promise<void> {
  await control?.close();
  await server?.stop();
}
