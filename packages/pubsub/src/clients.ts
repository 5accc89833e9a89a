import { type CallOptions, type ClientConfig, PubSub, v1 } from '@google-cloud/pubsub';

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
  /** No gax retries (the worker retries; errors surface at once) and a per-call timeout. */
  readonly call: CallOptions;
  /** Resolves the project id (given, from the environment, or from the credentials). */
  projectId(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Builds the v1 `PublisherClient` and `SubscriberClient` from the same options the
 * high-level `PubSub` class takes, so `apiEndpoint` (emulator: `127.0.0.1:8085`, insecure
 * channel) and credentials resolve exactly as they do there, without a global
 * `PUBSUB_EMULATOR_HOST`.
 */
export function createClients(settings: ClientSettings): Clients {
  const config: ClientConfig = {
    ...settings.clientConfig,
    ...(settings.projectId !== undefined ? { projectId: settings.projectId } : {}),
    ...(settings.apiEndpoint !== undefined ? { apiEndpoint: settings.apiEndpoint } : {}),
    ...(settings.emulator !== undefined ? { emulatorMode: settings.emulator } : {}),
  };
  // The PubSub constructor only resolves options (endpoint, port, insecure credentials for
  // an emulator); it opens no connection.
  const resolved = new PubSub(config).options as ConstructorParameters<typeof v1.SubscriberClient>[0];
  const publisher = new v1.PublisherClient(resolved);
  const subscriber = new v1.SubscriberClient(resolved);
  let project: Promise<string> | undefined;
  const fixed = config.projectId ?? process.env.PUBSUB_PROJECT_ID ?? process.env.GOOGLE_CLOUD_PROJECT;
  return {
    publisher,
    subscriber,
    call: { timeout: settings.timeoutMs, retry: null },
    projectId() {
      if (fixed) return Promise.resolve(fixed);
      project ??= subscriber.getProjectId();
      return project;
    },
    async close() {
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  };
}
