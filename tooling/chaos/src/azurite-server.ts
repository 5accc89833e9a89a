import { freePort, makeDataDir, removeDataDir, type ServerProcess, spawnServer, waitUntil } from '@bg/backends';
import { AZURITE_ACCOUNT_NAME, azuriteConnectionString, azuriteQueueBin } from '@bg/backends/azurite';

/** A private Azurite queue service that can be stopped and started again on the same port and folder. */
export interface StoppableAzurite {
  readonly queueEndpoint: string;
  readonly connectionString: string;
  /** Clean stop (SIGTERM): Azurite saves its `--location` folder. The port refuses connections until `start()`. */
  halt(): Promise<void>;
  /** Starts it again on the same port and folder; resolves when it answers. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts Azurite like `startAzurite` of `@bg/backends/azurite` (same arguments, same
 * readiness check), but with separate halt/start so the harness can keep it down for a few
 * seconds (`restart()` there starts it again at once). Undefined when Azurite is missing.
 */
export async function startStoppableAzurite(): Promise<StoppableAzurite | undefined> {
  const bin = azuriteQueueBin();
  if (!bin) return undefined;
  const port = await freePort();
  const dataDir = makeDataDir('chaos-azurite');
  const queueEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`;
  const args = [
    bin,
    '--queueHost',
    '127.0.0.1',
    '--queuePort',
    String(port),
    '--location',
    dataDir,
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
  ];
  let server: ServerProcess | undefined;
  const start = async (): Promise<void> => {
    const child = spawnServer(process.execPath, args);
    server = child;
    await waitUntil(
      `Azurite on port ${port}`,
      async () => {
        if (!child.running) throw new Error(`azurite-queue exited: ${child.output()}`);
        // Generous: Azurite reloads its whole data folder (10 000 messages in the full profile)
        // before it answers, and the box is shared with other test runs.
        const response = await fetch(`${queueEndpoint}?comp=list`, { signal: AbortSignal.timeout(5_000) });
        await response.arrayBuffer();
        return true;
      },
      120_000,
    );
  };
  await start();
  return {
    queueEndpoint,
    connectionString: azuriteConnectionString(queueEndpoint),
    async halt() {
      await server?.stop('SIGTERM', 10_000);
    },
    start,
    async stop() {
      await server?.stop('SIGTERM', 5_000);
      removeDataDir(dataDir);
    },
  };
}
