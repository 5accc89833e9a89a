import { existsSync } from 'node:fs';
import { managedServer, skipMissing } from './managed-server.js';
import { freePort } from './server-process.js';

/** Where the Debian package `google-cloud-cli-pubsub-emulator` installs the emulator's start script. */
export const PUBSUB_EMULATOR_BIN = '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator';

/** The apt package that provides {@link PUBSUB_EMULATOR_BIN}. */
export const PUBSUB_EMULATOR_PACKAGE = 'google-cloud-cli-pubsub-emulator';

/** A running private Pub/Sub emulator. */
export interface PubSubEmulator {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:<port>`: the value of `PUBSUB_EMULATOR_HOST`, or `apiEndpoint` of the client. */
  readonly endpoint: string;
  /** A project id to use (the emulator accepts any). */
  readonly projectId: string;
  /** PID of the emulator's JVM (also its process-group id). */
  readonly pid: number;
  /** Stops the emulator (its whole process group) and waits until it exited. Harmless twice. */
  stop(): Promise<void>;
}

/** Options of {@link startPubSubEmulator}. */
export interface StartPubSubEmulatorOptions {
  /** Readiness timeout, ms (default 60 000: the JVM needs 3–4 s, more on a busy CI box). */
  readonly readyTimeoutMs?: number;
  /** Project id handed back in {@link PubSubEmulator.projectId} (default `bg-test`). */
  readonly projectId?: string;
  /**
   * JVM options (`CLOUD_PUBSUB_EMULATOR_OPTS`; an environment variable of that name wins).
   * Default: the client JIT only, one compiler thread and the serial collector, which on a
   * 2-core box take about a third less CPU and answer tests as fast; benches pass `''` for the
   * JVM's defaults (its peak throughput).
   */
  readonly jvmOptions?: string;
}

/** The emulator's default JVM options: the C1 compiler only, one compiler thread, the serial collector. */
const LEAN_JVM_OPTIONS = '-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:+UseSerialGC';

/** Path of the emulator start script, or undefined when the Debian package is not installed. */
export function pubsubEmulatorBin(): string | undefined {
  const override = process.env.BG_PUBSUB_EMULATOR_BIN;
  if (override && existsSync(override)) return override;
  return existsSync(PUBSUB_EMULATOR_BIN) ? PUBSUB_EMULATOR_BIN : undefined;
}

async function answers(host: string, port: number): Promise<boolean> {
  // The emulator answers plain HTTP GET / with "Ok" once its server is listening.
  const response = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(1_000) });
  await response.arrayBuffer();
  return response.ok;
}

/**
 * Starts a private Google Pub/Sub emulator (`cloud-pubsub-emulator --host=127.0.0.1
 * --port=<free>`) in its own process group and waits until it answers. Resolves undefined
 * (after logging why) when the emulator is not installed and `CI` is not set; in CI a
 * missing emulator throws. Nothing persists: a stopped emulator forgets everything.
 */
export async function startPubSubEmulator(options: StartPubSubEmulatorOptions = {}): Promise<PubSubEmulator | undefined> {
  const bin = pubsubEmulatorBin();
  if (!bin) return skipMissing('The Google Pub/Sub emulator', `apt-get install -y ${PUBSUB_EMULATOR_PACKAGE} (needs Java 17)`);
  const host = '127.0.0.1';
  const port = await freePort();
  const server = managedServer({
    name: 'the Pub/Sub emulator',
    where: `${host}:${port}`,
    command: bin,
    args: [`--host=${host}`, `--port=${port}`],
    env: {
      CLOUD_PUBSUB_EMULATOR_OPTS: options.jvmOptions ?? LEAN_JVM_OPTIONS,
      ...process.env,
      METADATA_SERVER_DETECTION: 'none',
    },
    spawn: { processGroup: true },
    ready: () => answers(host, port),
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    everyMs: 100,
  });
  await server.start();
  const stop = (): Promise<void> => server.stop('SIGTERM', 5_000);
  return {
    host,
    port,
    endpoint: `${host}:${port}`,
    projectId: options.projectId ?? 'bg-test',
    pid: server.pid,
    stop,
  };
}
