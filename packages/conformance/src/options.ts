import type { ChildProcess } from 'node:child_process';
import type { Adapter, Capabilities } from '@bg/core';

/**
 * Reads the backend directly — with the backend's own client, not through the adapter
 * under test — so the suite can check what is really stored.
 */
export interface Inspector {
  /** Messages stored in the live queue in any state (visible, leased or delayed). */
  liveCount(queue: string): Promise<number>;
  /** Dead letters stored for the queue. */
  deadCount(queue: string): Promise<number>;
  /**
   * Writes a raw body straight into the live queue with the backend's own client, as a
   * foreign producer would (used by the worker group for malformed messages). Optional:
   * cases that need it are skipped visibly when absent.
   */
  sendRaw?(queue: string, body: string): Promise<void>;
}

/** Timing knobs for slow or coarse backends. All in ms. */
export interface Timing {
  /** Lease used by lease-expiry cases (raised to the manifest's `minLeaseMs`). Default 300. */
  readonly leaseMs: number;
  /** How long to wait for something expected to happen before failing. Default 5 000. */
  readonly deadlineMs: number;
  /** How long "nothing arrives" is watched. Default 300. */
  readonly quietMs: number;
  /** Clock tolerance between the adapter and the backend (early/late redelivery). Default 100. */
  readonly toleranceMs: number;
  /** Long-poll wait passed to `receive` in polling loops. Default 100. */
  readonly pollMs: number;
  /**
   * How soon something the contract says happens "at once" must have happened: a job
   * released with delay 0 visible again, an aborted or closed long poll returned, a job sent
   * during a long poll delivered, an unfinished job back after a graceful stop. Added to
   * `pollMs` where the suite polls. Default 500.
   */
  readonly promptMs: number;
  /** Per-case vitest timeout. Default 30 000. */
  readonly caseTimeoutMs: number;
}

/** Adapters that should fail in specific ways, for the "errors are typed" cases. */
export interface ErrorScenarios {
  /** An adapter whose operations on `queue` hit a queue that does not exist (`QUEUE_NOT_FOUND`, not retryable). */
  readonly missingQueue?: () => Adapter | Promise<Adapter>;
  /** An adapter with credentials the backend rejects (`AUTH_FAILED`, not retryable). */
  readonly badCredentials?: () => Adapter | Promise<Adapter>;
  /** An adapter pointed at an address where nothing listens (`UNREACHABLE`, retryable). */
  readonly unreachable?: () => Adapter | Promise<Adapter>;
  /**
   * An adapter on the same backend whose backend refuses every message whose id ends with
   * `-refused` (a fault injected below the adapter: a client middleware, a proxy, a wrapped
   * connection), storing the other entries of a batch or not, as the backend does. The
   * `delivery.batch-partial-failure` case checks that `send` rejects and names the failed ids.
   */
  readonly refusedEntry?: () => Adapter | Promise<Adapter>;
  /**
   * A secret the scenario adapters above are configured with (the password in their URL, an
   * access key): `errors.missing-queue`, `errors.bad-credentials` and `errors.unreachable` check
   * that no error of theirs shows it (message, stack, JSON, causes). Absent: not checked.
   */
  readonly secret?: string;
}

/** Connecting by URL, for the `connect.from-url` case. */
export interface UrlHook {
  /**
   * A URL that `connect()` from `@bg/core` turns into an adapter on the same backend
   * (register a third-party scheme with `registerAdapter` before the suite runs).
   */
  readonly url: string;
  /** URLs of the scheme that `fromUrl` must refuse with `INVALID_ARGUMENT` (not retryable). */
  readonly malformed?: readonly string[];
  /** A secret written in the malformed URLs (a password, a key) that must not appear in the error. */
  readonly secret?: string;
}

/** A worker process the suite can kill mid-handler (worker group). */
export interface WorkerProcessHook {
  /**
   * Absolute path of an ES module (`.js`, or `.ts` when `tsx` is installed) whose default export is
   * `(queue: string) => Adapter | Promise<Adapter>`, loaded in a child process to build
   * the adapter that child's worker uses (connected to the same backend).
   */
  readonly adapterModule: string;
  /** Extra environment for the child (connection URLs …). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Called in the parent with the forked child and the case's adapter, for backends that
   * live in the parent process (the memory adapter serves itself with
   * `serveAdapterOverIpc`). Returns a function that stops serving.
   */
  readonly serve?: (child: ChildProcess, adapter: Adapter) => () => void;
}

/** What {@link runConformance} takes. */
export interface ConformanceOptions {
  /** Shown in test names, e.g. `"redis"`. */
  readonly name: string;
  /**
   * The adapter's capability manifest, known when tests are registered: it chooses which
   * groups run. The suite checks that every adapter made by `createAdapter` declares the same.
   */
  readonly capabilities: Capabilities;
  /** Run the cases of a group concurrently (`it.concurrent`): each has its own queue. Good for slow backends. */
  readonly concurrent?: boolean;
  /**
   * Makes a fresh adapter connected to the backend. Called once per case; the suite closes
   * it at the end of the case. Queues are created by the suite with `ensureQueue`.
   */
  readonly createAdapter: () => Adapter | Promise<Adapter>;
  /** Reads the backend directly (see {@link Inspector}). Called once per case with that case's adapter. */
  readonly inspector: (adapter: Adapter) => Inspector;
  /** Timing knobs; defaults suit an in-process backend. */
  readonly timing?: Partial<Timing>;
  /** Prefix for the unique queue names the suite makes (default `conf`). */
  readonly queuePrefix?: string;
  /**
   * Whether the backend under test lets a queue be created again at once under the name of one
   * just deleted. Default true: memory, Redis, PostgreSQL and the emulators (fauxqs, Azurite,
   * the Pub/Sub emulator) do. Set false against a backend that refuses the name for a while —
   * real SQS for 60 s (`QueueDeletedRecently`), real Azure Storage while the queue is being
   * deleted (`QueueBeingDeleted`) — and `queues.recreate-same-name`, the one case that creates a
   * queue again under a deleted name, is skipped with that reason. Every other case uses fresh
   * names only.
   */
  readonly deletedQueueNamesReusable?: boolean;
  /** Restarts the backend keeping its data (durability case; skipped when absent or `durable` is false). */
  readonly restartBackend?: () => Promise<void>;
  /** Broken-on-purpose adapters for the error cases; each absent one is skipped visibly. */
  readonly errors?: ErrorScenarios;
  /** A URL for `connect()`, and malformed ones, for the `connect.from-url` case (skipped when absent). */
  readonly url?: UrlHook;
  /** Child-process worker for the crash case of the worker group (skipped when absent). */
  readonly workerProcess?: WorkerProcessHook;
  /**
   * Makes an adapter on the same backend whose backend dead-letters a message by itself after
   * a few deliveries (its manifest's `maxDeliveries` at most 10, e.g. `pubsubAdapter({
   * maxDeliveryAttempts: 5 })`), for the case that parks a delay more often than that. Needed
   * only when the adapter declares a `maxDeliveries` above 10 (the case is skipped otherwise).
   */
  readonly lowDeliveryCapAdapter?: () => Adapter | Promise<Adapter>;
  /**
   * Groups or case ids to leave out, each with a written reason. Every exclusion is shown in
   * the skip and in the summary at the end of the run; a key that names no case or group, or
   * an empty reason, fails the run. Excluding is the only way to leave out a case whose
   * declared capability cannot be checked (e.g. `durable` without `restartBackend`).
   */
  readonly exclude?: Readonly<Record<string, string>>;
}

/** The vitest functions the suite registers its tests with (pass vitest's own). */
export interface TestApi {
  readonly describe: (name: string, fn: () => void) => void;
  readonly it: ((name: string, fn: () => Promise<void>, timeout?: number) => void) & {
    readonly skip: (name: string, fn: () => Promise<void>) => void;
    readonly concurrent?: (name: string, fn: () => Promise<void>, timeout?: number) => void;
  };
  readonly expect: ExpectLike;
  readonly afterAll?: (fn: () => Promise<void> | void) => void;
}

/** The subset of vitest's `expect` the suite uses. */
export type ExpectLike = (value: any, message?: string) => any;
