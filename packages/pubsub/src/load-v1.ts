import { createRequire } from 'node:module';
import type { v1 } from '@google-cloud/pubsub';

/** The parts of `@google-cloud/pubsub` the adapter runs: the two v1 clients and gRPC's insecure credentials. */
export interface V1Sdk {
  readonly PublisherClient: typeof v1.PublisherClient;
  readonly SubscriberClient: typeof v1.SubscriberClient;
  /** `grpc.credentials.createInsecure()` of the google-gax the clients use (emulator channels). */
  readonly insecureCredentials: () => unknown;
  /** Version of the installed `@google-cloud/pubsub` (the `x-goog-api-client` header), when readable. */
  readonly version?: string;
}

let loaded: V1Sdk | undefined;

function resolves(require: NodeJS.Require, id: string): string | undefined {
  try {
    return require.resolve(id);
  } catch {
    return undefined;
  }
}

/**
 * Loads only the v1 clients of the installed `@google-cloud/pubsub`, not its index: 5.x keeps
 * them in `build/src/v1`, 6.x in its dependency `@google-cloud/pubsub-api` (`build/src/v1`).
 * A layout neither of these falls back to the package's own `v1` export (the whole index).
 * Synchronous (the SDK is CommonJS), once per process.
 */
export function loadV1(): V1Sdk {
  if (loaded) return loaded;
  const ours = createRequire(import.meta.url);
  const main = ours.resolve('@google-cloud/pubsub');
  const fromPubsub = createRequire(main);
  let clients = resolves(fromPubsub, './v1/index.js');
  if (clients === undefined) {
    const api = resolves(fromPubsub, '@google-cloud/pubsub-api');
    if (api !== undefined) clients = resolves(createRequire(api), './v1/index.js');
  }
  const v1Module = (clients !== undefined ? fromPubsub(clients) : (fromPubsub(main) as { v1: unknown }).v1) as {
    PublisherClient: typeof v1.PublisherClient;
    SubscriberClient: typeof v1.SubscriberClient;
  };
  // The google-gax the clients were built with (their own dependency), for its grpc.
  const gax = createRequire(clients ?? main)('google-gax') as { grpc: { credentials: { createInsecure(): unknown } } };
  let version: string | undefined;
  try {
    version = (fromPubsub('../../package.json') as { version?: string }).version;
  } catch {
    version = undefined;
  }
  loaded = {
    PublisherClient: v1Module.PublisherClient,
    SubscriberClient: v1Module.SubscriberClient,
    insecureCredentials: () => gax.grpc.credentials.createInsecure(),
    ...(version !== undefined ? { version } : {}),
  };
  return loaded;
}
