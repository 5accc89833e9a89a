import { missingBackend } from '@bg/backends';
import type { TestProject } from 'vitest/node';

/** Where a backend is, or why its test skips. */
type Found<T> = T | { skip: string };

declare module 'vitest' {
  export interface ProvidedContext {
    otelRedis: Found<{ url: string }>;
    otelSqs: Found<{ endpoint: string; region: string }>;
    otelAzurite: Found<{ connectionString: string }>;
    otelPubsub: Found<{ endpoint: string; projectId: string }>;
  }
}

const stops: (() => Promise<void>)[] = [];

function missing(name: string, install: string): { skip: string } {
  const m = missingBackend(name, install);
  if (m.fail) throw new Error(m.message);
  return { skip: m.message };
}

/** Starts one private server of each backend kind for the run (in parallel), stopped by PID afterwards. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [redis, sqs, azurite, pubsub] = await Promise.all([
    import('@bg/backends/redis').then((m) => m.startRedis()),
    import('@bg/backends/sqs').then(
      (m) => m.startFauxqs(),
      () => undefined,
    ),
    import('@bg/backends/azurite').then((m) => m.startAzurite()),
    import('@bg/backends/pubsub-emulator').then((m) => m.startPubSubEmulator()),
  ]);
  for (const server of [redis, sqs, azurite, pubsub]) if (server) stops.push(() => server.stop());
  project.provide('otelRedis', redis ? { url: redis.url } : missing('redis-server', 'apt-get install -y redis-server'));
  project.provide('otelSqs', sqs ? { endpoint: sqs.endpoint, region: sqs.region } : missing('fauxqs', 'pnpm install'));
  project.provide('otelAzurite', azurite ? { connectionString: azurite.connectionString } : missing('Azurite', 'pnpm install'));
  project.provide(
    'otelPubsub',
    pubsub
      ? { endpoint: pubsub.endpoint, projectId: pubsub.projectId }
      : missing('the Pub/Sub emulator', 'apt-get install -y google-cloud-cli-pubsub-emulator'),
  );
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
