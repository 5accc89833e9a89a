import { BgError } from '@bg/core/adapter';
import type { CallOptions, ClientConfig, v1 } from '@google-cloud/pubsub';
import { loadV1 } from './load-v1.js';
import { quietInitialize } from './quiet-initialize.js';

/** How to reach Pub/Sub (see {@link PubSubAdapterOptions}). */
export interface ClientSettings {
  readonly projectId?: string;
  readonly apiEndpoint?: string;
  readonly emulator?: boolean;
  readonly clientConfig?: ClientConfig;
  readonly timeoutMs: number;
}

/** The two low-level (v1) clients the adapter uses, and the call options of every call. */
export interface Clients {
  readonly publisher: v1.PublisherClient;
  readonly subscriber: v1.SubscriberClient;
  /**
   * The options of one call, a new object each time: no gax retries (the worker retries; errors
   * surface at once) and a per-call timeout. Never share one between calls: every generated
   * method writes its routing header (`x-goog-request-params`, naming the subscription or topic)
   * into the object it is given, and gax reads it only once the stub is ready, so concurrent
   * calls sharing one sent each other's header.
   */
  call(): CallOptions;
  /** Resolves the project id (given, from the environment, or from the credentials). */
  projectId(): Promise<string>;
  close(): Promise<void>;
}

/** The options both v1 client constructors take. */
export type V1Options = ConstructorParameters<typeof v1.SubscriberClient>[0] & Record<string, unknown>;

/** What {@link resolveClientOptions} needs from the SDK: the scopes of both clients and gRPC's insecure credentials. */
export interface ResolveContext {
  readonly scopes: readonly string[];
  readonly insecure: () => unknown;
  readonly libVersion?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The options of the v1 clients, resolved as the SDK's `PubSub` class resolves them (a
 * pure function; `test/clients.test.ts` checks it against `new PubSub(config).options`):
 * gRPC keepalive and metadata defaults under the caller's options, the union of both
 * clients' OAuth scopes, and the endpoint — `apiEndpoint`, else `PUBSUB_EMULATOR_HOST`,
 * else `CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB` — split into `servicePath` and `port`.
 * An endpoint that is not a `*.googleapis.com` host (or `emulatorMode: true`) is an
 * emulator: a plain-text channel and no credentials (`emulatorMode: false` forbids it).
 * `PUBSUB_PROJECT_ID` fills a missing project id once an endpoint is set.
 *
 * The adapter does this itself so that it can import only the v1 clients: the package's
 * index (streaming subscriber, IAM, schemas, OpenTelemetry) cost a booting worker about
 * 150–250 ms more CPU.
 */
export function resolveClientOptions(config: ClientConfig, context: ResolveContext): V1Options {
  const options: Record<string, unknown> = {
    libName: 'gccl',
    ...(context.libVersion !== undefined ? { libVersion: context.libVersion } : {}),
    scopes: [...new Set(context.scopes)],
    'grpc.max_metadata_size': 4 * 1024 * 1024,
    'grpc.keepalive_time_ms': 300_000,
    'grpc.keepalive_timeout_ms': 20_000,
    ...config,
  };
  const endpoint =
    (config.apiEndpoint || undefined) ??
    (context.env.PUBSUB_EMULATOR_HOST || undefined) ??
    (context.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB || undefined);
  if (endpoint === undefined) return options as V1Options;
  const [host = '', port] = endpoint
    .replace(/^https?:\/\//, '')
    .replace(/(?<!\/)\/+$/, '')
    .split(':');
  options.servicePath = host;
  if (port) options.port = Number.parseInt(port, 10);
  else if (endpoint.startsWith('https')) options.port = 443;
  else if (endpoint.startsWith('http')) options.port = 80;
  else options.port = undefined;
  const official = host.endsWith('.googleapis.com') || Boolean(options.universeDomain);
  if ((!official && options.emulatorMode !== false) || options.emulatorMode === true) {
    const grpc = options.grpc as { credentials?: { createInsecure(): unknown } } | undefined;
    options.sslCreds = grpc?.credentials ? grpc.credentials.createInsecure() : context.insecure();
  }
  if (!options.projectId && context.env.PUBSUB_PROJECT_ID) options.projectId = context.env.PUBSUB_PROJECT_ID;
  return options as V1Options;
}

/**
 * What the clients of an emulator (an insecure channel, no credentials) also get: the default
 * universe domain, named, so that gax's stub does not ask Application Default Credentials for
 * it. That lookup probes the GCE metadata server, which off Google Cloud printed a Node
 * `MetadataLookupWarning` on every process (every `bgctl` command on the emulator). Pure.
 */
export function emulatorAuth(resolved: V1Options): { universeDomain?: string } {
  const options = resolved as { sslCreds?: unknown; universeDomain?: string; universe_domain?: string };
  if (options.sslCreds === undefined || options.universeDomain || options.universe_domain) return {};
  return { universeDomain: 'googleapis.com' };
}

/**
 * Builds the v1 `PublisherClient` and `SubscriberClient` with the options the high-level
 * `PubSub` class would give them ({@link resolveClientOptions}), so `apiEndpoint`
 * (emulator: `127.0.0.1:8085`, insecure channel) and credentials resolve as they do there,
 * without a global `PUBSUB_EMULATOR_HOST`.
 */
export function createClients(settings: ClientSettings): Clients {
  const config: ClientConfig = {
    ...settings.clientConfig,
    ...(settings.projectId !== undefined ? { projectId: settings.projectId } : {}),
    ...(settings.apiEndpoint !== undefined ? { apiEndpoint: settings.apiEndpoint } : {}),
    ...(settings.emulator !== undefined ? { emulatorMode: settings.emulator } : {}),
  };
  const sdk = loadV1();
  const resolved = resolveClientOptions(config, {
    scopes: [...sdk.SubscriberClient.scopes, ...sdk.PublisherClient.scopes],
    insecure: sdk.insecureCredentials,
    ...(sdk.version !== undefined ? { libVersion: sdk.version } : {}),
    env: process.env,
  });
  // Each pair of clients gets gRPC subchannels of its own (not the process-wide pool), so that a
  // renewed pair makes a new connection instead of taking the dead one back.
  const own = { ...resolved, 'grpc.use_local_subchannel_pool': 1, ...emulatorAuth(resolved) } as V1Options;
  const make = (): Pair => {
    const pair = { publisher: new sdk.PublisherClient(own), subscriber: new sdk.SubscriberClient(own) };
    // A stub that cannot be built (credentials not loadable) must fail the calls, not the process.
    quietInitialize(pair.publisher);
    quietInitialize(pair.subscriber);
    return pair;
  };
  let current = make();
  let closed = false;
  /** Pairs given up by {@link renew}, closing in the background: `close()` waits for them. */
  const retiring = new Set<Promise<unknown>>();
  const retire = (pair: Pair): void => {
    const closing = Promise.allSettled([pair.publisher.close(), pair.subscriber.close()]);
    retiring.add(closing);
    void closing.then(() => retiring.delete(closing));
  };
  /** When each pair last got an answer from the server (`performance.now()`). */
  const answeredAt = new WeakMap<Pair, number>();
  /**
   * A call that got no answer in time (DEADLINE_EXCEEDED) may have waited on a dead connection:
   * a black-holed network or a half-open connection after a failover never fails by itself, and
   * gRPC's keepalive (5 min, as Google's own clients: lower risks `too_many_pings`) notices only
   * after minutes, so every later call would time out too. Unless the server answered another
   * call on the pair since the timed-out one began (the connection lives; the server was only
   * slow with that call: a new connection would not help and costs it a handshake), the pair is
   * replaced by a new one (a new connection); calls under way on the old one end as they would.
   */
  const renew = (pair: Pair, startedAt: number): void => {
    if (closed || current !== pair || !renewalDue(startedAt, answeredAt.get(pair))) return;
    current = make();
    retire(pair);
  };
  const answered = (pair: Pair): void => {
    answeredAt.set(pair, performance.now());
  };
  const publisher = forwarding(() => current, 'publisher', { answered, timedOut: renew });
  const subscriber = forwarding(() => current, 'subscriber', { answered, timedOut: renew });
  let project: Promise<string> | undefined;
  const fixed = (resolved.projectId as string | undefined) || process.env.PUBSUB_PROJECT_ID || process.env.GOOGLE_CLOUD_PROJECT;
  return {
    publisher,
    subscriber,
    call: () => ({ timeout: settings.timeoutMs, retry: null }),
    projectId() {
      if (fixed) return Promise.resolve(fixed);
      // An emulator has no credentials to take a project from: the lookup would ask the cloud
      // metadata server (a warning, then a failure). Say what is missing instead.
      if ((resolved as { sslCreds?: unknown }).sslCreds !== undefined) {
        return Promise.reject(
          new BgError(
            'INVALID_ARGUMENT',
            'a Pub/Sub emulator needs a project id: pubsub://<project>?endpoint=… (or PUBSUB_PROJECT_ID)',
            {
              retryable: false,
            },
          ),
        );
      }
      project ??= subscriber.getProjectId();
      return project;
    },
    async close() {
      closed = true;
      retire(current);
      await Promise.all([...retiring]);
    },
  };
}

/** The publisher and subscriber clients of one gRPC connection. */
export interface Pair {
  readonly publisher: v1.PublisherClient;
  readonly subscriber: v1.SubscriberClient;
}

/**
 * Whether a call that began at `startedAt` and got no answer in time calls for a new connection:
 * only when its pair got no answer since it began (`lastAnswerAt`, `performance.now()` times).
 */
export function renewalDue(startedAt: number, lastAnswerAt: number | undefined): boolean {
  return lastAnswerAt === undefined || lastAnswerAt < startedAt;
}

/** What {@link forwarding} reports about the calls it forwards. */
export interface CallOutcomes {
  /** The server answered a call of `pair` (a result, or an error it sent). */
  answered(pair: Pair): void;
  /** A call of `pair` begun at `startedAt` got no answer before its deadline. */
  timedOut(pair: Pair, startedAt: number): void;
}

/**
 * A stand-in for the `which` client of the current {@link Pair}: every method call goes to the
 * pair current at the time of the call, and its outcome is reported with the pair it ran on
 * (the caller still gets the result or the failure).
 */
export function forwarding<K extends keyof Pair>(current: () => Pair, which: K, outcomes: CallOutcomes): Pair[K] {
  return new Proxy({} as Pair[K], {
    get(_, property) {
      const pair = current();
      const client = pair[which] as unknown as Record<PropertyKey, unknown>;
      const value = client[property];
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const startedAt = performance.now();
        const result = (value as (...a: unknown[]) => unknown).apply(client, args);
        if (result instanceof Promise) {
          result.then(
            () => outcomes.answered(pair),
            (error: unknown) => {
              const code = (error as { code?: unknown } | null)?.code;
              if (code === GRPC_DEADLINE_EXCEEDED) outcomes.timedOut(pair, startedAt);
              else if (typeof code === 'number' && !NOT_FROM_THE_SERVER.has(code)) outcomes.answered(pair);
            },
          );
        }
        return result;
      };
    },
  });
}

/** gRPC's status code for a call that got no answer before its deadline. */
const GRPC_DEADLINE_EXCEEDED = 4;
/** gRPC status codes the client makes up itself (CANCELLED, UNKNOWN, UNAVAILABLE): no sign of a live server. */
const NOT_FROM_THE_SERVER: ReadonlySet<number> = new Set([1, 2, 14]);
