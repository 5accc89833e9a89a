import type { ServerProcess, SpawnServerOptions } from './server-process.js';
import { missingBackend, removeDataDir, spawnServer, waitUntil } from './server-process.js';

/** A private server a starter runs on loopback, on its own port and data folder, stopped by PID. */
export interface LocalServer {
  readonly host: string;
  readonly port: number;
  /** Its data folder. */
  readonly dataDir: string;
  /** PID of the current server process. */
  readonly pid: number;
  /** Stops it by PID and removes its data folder (when the starter made it). */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port and data folder; resolves when it is ready. */
  restart(): Promise<void>;
}

/** A {@link LocalServer} a test can crash and bring back (`restart()` is `kill()` then `start()`). */
export interface KillableServer extends LocalServer {
  /** `kill -9` without restarting: the port refuses connections until `start()`. */
  kill(): Promise<void>;
  /** Starts it again after `kill()`; resolves when it is ready. */
  start(): Promise<void>;
}

/** What {@link managedServer} starts: a command on a port we chose, and how to tell it is ready. */
export interface ManagedServerSpec {
  /** What it is, for messages (`redis-server on port 6380`). */
  readonly name: string;
  /** Where it listens, for messages (`port 6380`, `127.0.0.1:10001`). */
  readonly where: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly spawn?: SpawnServerOptions;
  /**
   * True once the server answers as ready; false to keep waiting; may throw to give up (a
   * port answered by a server that is not ours). Called only while the process runs.
   */
  ready(server: ServerProcess): Promise<boolean>;
  /** Readiness timeout, ms (default 30 000). */
  readonly readyTimeoutMs?: number;
  /** Pause between readiness checks, ms (default 25). */
  readonly everyMs?: number;
}

/** A server process we start, stop and restart by PID on the same port and data folder. */
export interface ManagedServer {
  /** PID of the current process (-1 before the first start). */
  readonly pid: number;
  /** The current process, if started. */
  readonly process: ServerProcess | undefined;
  /**
   * Spawns it and resolves once ready. A process that exits first, or is not ready within
   * the timeout, is killed and the call throws with the tail of its output.
   */
  start(): Promise<void>;
  /** `kill -9` (its whole process group when spawned as one); resolves when it exited. */
  kill(): Promise<void>;
  /** The signal (default SIGTERM), then SIGKILL after `graceMs`; resolves when it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** `kill()`, then `start()`. */
  restart(): Promise<void>;
}

/**
 * The one "spawn a server on a port we chose, wait until it is ready, stop it by PID" of
 * every backend starter (`spawnServer` + `waitUntil`): `start()` can be called again after
 * `kill()` or `stop()` to bring the same server back (a restart on its data folder).
 */
export function managedServer(spec: ManagedServerSpec): ManagedServer {
  let current: ServerProcess | undefined;
  const kill = async (): Promise<void> => {
    await current?.stop('SIGKILL');
  };
  const start = async (): Promise<void> => {
    const server = spawnServer(spec.command, spec.args, spec.env ?? process.env, spec.spawn ?? {});
    current = server;
    try {
      await waitUntil(
        `${spec.name} on ${spec.where}`,
        async () => {
          if (!server.running) throw new Error(`${spec.name} exited: ${server.output()}`);
          return spec.ready(server);
        },
        spec.readyTimeoutMs ?? 30_000,
        spec.everyMs ?? 25,
      );
    } catch (error) {
      await server.stop('SIGKILL');
      throw error;
    }
  };
  return {
    get pid() {
      return current?.pid ?? -1;
    },
    get process() {
      return current;
    },
    start,
    kill,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000) {
      await current?.stop(signal, graceMs);
    },
    async restart() {
      await kill();
      await start();
    },
  };
}

/** Where a {@link killableServer} runs and how it stops. */
export interface KillableServerPlace {
  readonly port: number;
  readonly dataDir: string;
  /** The signal of a clean `stop()` (SIGKILL follows after `graceMs`). */
  readonly stopSignal: NodeJS.Signals;
  readonly graceMs: number;
}

/**
 * The {@link KillableServer} of a managed server on 127.0.0.1:`port`: `stop()` sends
 * `stopSignal` and removes the data folder; `restart`, `kill` and `start` are the managed
 * server's. `extra` (urls, credentials) is added to it.
 */
export function killableServer<E extends object>(
  server: ManagedServer,
  place: KillableServerPlace,
  extra: E,
): KillableServer & E {
  const base: KillableServer = {
    host: '127.0.0.1',
    port: place.port,
    dataDir: place.dataDir,
    get pid() {
      return server.pid;
    },
    async stop() {
      await server.stop(place.stopSignal, place.graceMs);
      removeDataDir(place.dataDir);
    },
    restart: server.restart,
    kill: server.kill,
    start: server.start,
  };
  // Object.assign onto base keeps its pid getter live.
  return Object.assign(base, extra);
}

/**
 * A backend server that is not installed: throws in CI (`CI` set); elsewhere warns that its
 * tests are skipped and returns undefined, which the starters resolve with.
 */
export function skipMissing(name: string, install: string): undefined {
  const missing = missingBackend(name, install);
  if (missing.fail) throw new Error(missing.message);
  process.emitWarning(`${missing.message}; its tests are skipped`);
  return undefined;
}
