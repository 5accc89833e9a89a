import { randomBytes } from 'node:crypto';
import { v1 } from '@google-cloud/pubsub';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { pubsubAdapter } from '../src/index.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

interface Sent {
  readonly method: string;
  readonly subscription: string;
  readonly header: string;
}

/** One method of the gRPC stub: the request, the metadata sent with it, the rest. */
type StubMethod = (request: { subscription?: string }, metadata: { get(key: string): unknown[] }, ...rest: unknown[]) => unknown;
type Stub = Record<string, StubMethod>;

describe.skipIf(!endpoint)('the routing header of each call', () => {
  const original = v1.SubscriberClient.prototype.initialize;
  afterEach(() => {
    v1.SubscriberClient.prototype.initialize = original;
  });

  it('names the subscription of that call, also while calls of other queues run concurrently', async () => {
    const sent: Sent[] = [];
    // Records what reaches the gRPC stub: the request's subscription and the metadata sent with it.
    v1.SubscriberClient.prototype.initialize = function (this: v1.SubscriberClient & { subscriberStub?: Promise<Stub> }) {
      const first = this.subscriberStub === undefined;
      const ready = original.call(this);
      if (first) {
        void this.subscriberStub?.then(
          (stub) => {
            for (const method of ['pull', 'getSubscription', 'modifyAckDeadline', 'acknowledge']) {
              const call = stub[method];
              if (!call) continue;
              const recorded: StubMethod = function (this: unknown, request, metadata, ...rest) {
                const header = decodeURIComponent(String(metadata.get('x-goog-request-params')[0] ?? ''));
                sent.push({ method, subscription: request.subscription ?? '', header });
                return call.call(this, request, metadata, ...rest);
              };
              stub[method] = recorded;
            }
          },
          () => undefined,
        );
      }
      return ready;
    };
    const adapter = pubsubAdapter({ apiEndpoint: endpoint, projectId });
    try {
      const queues = [0, 1].map((n) => `routing-${n}-${randomBytes(4).toString('hex')}`);
      await Promise.all(queues.map((queue) => adapter.ensureQueue(queue)));
      await Promise.all(
        queues.flatMap((queue) => [adapter.receive(queue, { max: 1, leaseMs: 10_000 }), adapter.queueExists?.(queue)]),
      );
      const wrong = sent.filter((s) => s.header !== `subscription=${s.subscription}`);
      expect(sent.length, 'subscriber calls seen at the stub').toBeGreaterThan(4);
      expect(
        wrong.map(
          (s) => `${s.method}(${s.subscription.split('/').pop()}) sent x-goog-request-params ${s.header.split('/').pop()}`,
        ),
        'calls whose routing header names another subscription (the call options object was shared between calls)',
      ).toEqual([]);
    } finally {
      await adapter.close();
    }
  });
});
