// The adapter imports only the v1 clients and resolves their options itself: the same
// options the SDK's `PubSub` class would give them, and a working emulator channel.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type ClientConfig, PubSub, v1 } from '@google-cloud/pubsub';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { resolveClientOptions } from '../src/clients.js';
import { loadV1 } from '../src/load-v1.js';
import { pubsubAdapter } from '../src/pubsub-adapter.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');
const ENV_NAMES = ['PUBSUB_EMULATOR_HOST', 'CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB', 'PUBSUB_PROJECT_ID'] as const;
const saved = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));

function setEnv(env: Partial<Record<(typeof ENV_NAMES)[number], string>>): void {
  for (const n of ENV_NAMES) {
    const value = env[n];
    if (value === undefined) delete process.env[n];
    else process.env[n] = value;
  }
}
afterEach(() => setEnv(saved as Record<string, string>));

/** Options as compared: the insecure credentials by kind (each SDK copy makes its own object). */
function comparable(options: Record<string, unknown>): Record<string, unknown> {
  const { sslCreds, ...rest } = options;
  return { ...rest, sslCreds: sslCreds === undefined ? 'none' : (sslCreds as object).constructor.name };
}

describe('resolveClientOptions agrees with new PubSub(config).options', () => {
  const cases: { name: string; config: ClientConfig; env?: Partial<Record<(typeof ENV_NAMES)[number], string>> }[] = [
    { name: 'the real service, nothing given', config: {} },
    { name: 'an emulator host:port', config: { apiEndpoint: '127.0.0.1:8085', projectId: 'p' } },
    { name: 'an http URL with a trailing slash', config: { apiEndpoint: 'http://localhost:8085/' } },
    { name: 'an https URL without port', config: { apiEndpoint: 'https://private.example.com' } },
    { name: 'an http URL without port', config: { apiEndpoint: 'http://private.example.com' } },
    { name: 'a host without port', config: { apiEndpoint: 'emulator' } },
    { name: 'the official host', config: { apiEndpoint: 'pubsub.googleapis.com:443' } },
    { name: 'a regional official URL', config: { apiEndpoint: 'https://europe-west1-pubsub.googleapis.com' } },
    { name: 'emulator forced on an official host', config: { apiEndpoint: 'pubsub.googleapis.com:443', emulatorMode: true } },
    { name: 'emulator forbidden on a private host', config: { apiEndpoint: '10.0.0.1:9000', emulatorMode: false } },
    { name: 'a universe domain', config: { apiEndpoint: 'pubsub.example.net:443', universeDomain: 'example.net' } },
    { name: 'PUBSUB_EMULATOR_HOST', config: {}, env: { PUBSUB_EMULATOR_HOST: '127.0.0.1:8681' } },
    {
      name: 'PUBSUB_EMULATOR_HOST and PUBSUB_PROJECT_ID',
      config: {},
      env: { PUBSUB_EMULATOR_HOST: 'h:1', PUBSUB_PROJECT_ID: 'envp' },
    },
    { name: 'apiEndpoint over PUBSUB_EMULATOR_HOST', config: { apiEndpoint: 'a:2' }, env: { PUBSUB_EMULATOR_HOST: 'b:3' } },
    { name: 'the gcloud override', config: {}, env: { CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB: 'https://p.example.com:8443/' } },
    { name: 'PUBSUB_PROJECT_ID without endpoint (not used here)', config: {}, env: { PUBSUB_PROJECT_ID: 'envp' } },
    {
      name: "the caller's scopes, gRPC options and library name win",
      config: { scopes: ['https://example.com/only'], 'grpc.keepalive_time_ms': 1_000, libName: 'mine' } as ClientConfig,
    },
  ];
  const sdk = loadV1();
  for (const c of cases) {
    it(c.name, () => {
      setEnv(c.env ?? {});
      const theirs = new PubSub(c.config).options as Record<string, unknown>;
      const ours = resolveClientOptions(c.config, {
        scopes: [...sdk.SubscriberClient.scopes, ...sdk.PublisherClient.scopes],
        insecure: sdk.insecureCredentials,
        ...(sdk.version !== undefined ? { libVersion: sdk.version } : {}),
        env: process.env,
      });
      expect(comparable(ours), `resolveClientOptions(${JSON.stringify(c.config)}), env ${JSON.stringify(c.env ?? {})}`).toEqual(
        comparable(theirs),
      );
    });
  }

  it('loads the v1 clients of the installed SDK', () => {
    expect(sdk.SubscriberClient.scopes, 'loadV1(): SubscriberClient.scopes are the SDK’s').toEqual(v1.SubscriberClient.scopes);
    expect(sdk.PublisherClient.name, 'loadV1(): a PublisherClient class').toBe('PublisherClient');
  });

  it('creating an adapter does not load the SDK index (streaming subscriber, IAM, schemas)', () => {
    // The built package (tests run after the build), as an application loads it.
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { createRequire } = await import('node:module');
      const { pubsubAdapter } = await import(${JSON.stringify(dist)});
      const adapter = pubsubAdapter({ apiEndpoint: '127.0.0.1:1', projectId: 'p' });
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ index: loaded.filter((k) => /pubsub[\\\\/]build[\\\\/]src[\\\\/](pubsub|subscriber|iam)\\.js$/.test(k)), total: loaded.length }));
      await adapter.close();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    const { index, total } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { index: string[]; total: number };
    expect(index, `modules of the SDK index loaded by pubsubAdapter() (of ${total} CommonJS modules)`).toEqual([]);
    expect(total, 'pubsubAdapter() loaded the v1 clients (CommonJS modules)').toBeGreaterThan(50);
  });
});

describe.skipIf(!endpoint)('the resolved options reach the emulator', () => {
  async function roundTrip(options: Parameters<typeof pubsubAdapter>[0], label: string): Promise<void> {
    const adapter = pubsubAdapter(options);
    try {
      const queue = `own-clients-${randomBytes(4).toString('hex')}`;
      await adapter.ensureQueue(queue);
      await adapter.send(queue, [{ id: 'c-1', body: '{"x":1}' }]);
      const got = [];
      const end = Date.now() + 30_000;
      while (got.length === 0 && Date.now() < end)
        got.push(...(await adapter.receive(queue, { max: 1, leaseMs: 10_000, waitMs: 500 })));
      expect(
        got.map((m) => m.id),
        `${label}: send then receive`,
      ).toEqual(['c-1']);
    } finally {
      await adapter.close();
    }
  }

  it.concurrent('through PUBSUB_EMULATOR_HOST and PUBSUB_PROJECT_ID only (insecure channel, project from the environment)', async () => {
    setEnv({ PUBSUB_EMULATOR_HOST: endpoint, PUBSUB_PROJECT_ID: projectId });
    // The clients read the environment when they are created; the adapter creates them at once.
    const options = {};
    const adapter = roundTrip(options, 'pubsubAdapter({}) with PUBSUB_EMULATOR_HOST');
    setEnv(saved as Record<string, string>);
    await adapter;
  });

  it.concurrent('through an http:// apiEndpoint', async () => {
    await roundTrip({ apiEndpoint: `http://${endpoint}/`, projectId }, 'pubsubAdapter({ apiEndpoint: http://… })');
  });
});

describe('an emulator endpoint without a project id', () => {
  it('is a typed error naming what is missing (the SDK asked the cloud metadata server, with a warning)', async () => {
    const google = process.env.GOOGLE_CLOUD_PROJECT;
    setEnv({});
    delete process.env.GOOGLE_CLOUD_PROJECT;
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    const adapter = pubsubAdapter({ apiEndpoint: 'http://127.0.0.1:1' });
    try {
      const error = await adapter.ensureQueue('no-project').catch((e: unknown) => e);
      expect(error, 'ensureQueue on an emulator endpoint without a project').toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('no Google Cloud project id'),
      });
      expect(
        String((error as { cause?: { message?: unknown } }).cause?.message),
        'why: said at once, without asking the cloud metadata server (which printed a MetadataLookupWarning)',
      ).toContain('a Pub/Sub emulator needs a project id');
      expect(warnings, 'process warnings').not.toContain('MetadataLookupWarning');
    } finally {
      process.off('warning', onWarning);
      await adapter.close();
      setEnv(saved as Record<string, string>);
      if (google !== undefined) process.env.GOOGLE_CLOUD_PROJECT = google;
    }
  });
});
