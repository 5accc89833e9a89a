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
  const publisher = new sdk.PublisherClient(resolved);
  const subscriber = new sdk.SubscriberClient(resolved);
  // A stub that cannot be built (credentials not loadable) must fail the calls, not the process.
  quietInitialize(publisher);
  quietInitialize(subscriber);
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
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  };
}
