import { randomBytes } from 'node:crypto';
import { type Inspector, withCapabilities } from '@bg/conformance';
import type { Adapter } from '@bg/core';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { queueResources } from '../src/index.js';

/**
 * Reads the emulator with the raw v1 client, not through the adapter.
 *
 * Pub/Sub has no "count the backlog" call in its data plane, and leased messages cannot be
 * pulled. So each queue gets two inspection subscriptions (`<sub>.inspect`, on the job topic
 * and on the dead-letter topic), created right after `ensureQueue` and never used otherwise.
 * To count, the inspector snapshots the real subscription (the snapshot holds exactly its
 * unacknowledged messages, leased or not), seeks the inspection subscription to it and pulls
 * that copy dry. The real subscription is not touched: no lease changes, no delivery counts.
 */
export class RawInspector implements Inspector {
  readonly #publisher: v1.PublisherClient;
  readonly #subscriber: v1.SubscriberClient;
  readonly #projectId: string;
  readonly #prefix: string;

  constructor(endpoint: string, projectId: string, prefix = 'bg-') {
    const options = new PubSub({ apiEndpoint: endpoint, emulatorMode: true, projectId }).options as ConstructorParameters<
      typeof v1.SubscriberClient
    >[0];
    this.#publisher = new v1.PublisherClient(options);
    this.#subscriber = new v1.SubscriberClient(options);
    this.#projectId = projectId;
    this.#prefix = prefix;
  }

  /** Creates the inspection subscriptions of a queue (call right after ensureQueue, before any send). */
  async attach(queue: string): Promise<void> {
    const r = queueResources(this.#projectId, this.#prefix, queue);
    for (const [topic, subscription] of [
      [r.topic, r.subscription],
      [r.deadTopic, r.deadSubscription],
    ] as const) {
      try {
        await this.#subscriber.createSubscription({ name: `${subscription}.inspect`, topic, ackDeadlineSeconds: 60 });
      } catch (error) {
        if ((error as { code?: number }).code !== 6) throw error;
      }
    }
  }

  async #count(subscription: string, key: (attributes: Record<string, string>, messageId: string) => string): Promise<number> {
    const snapshot = `projects/${this.#projectId}/snapshots/inspect-${randomBytes(6).toString('hex')}`;
    const mirror = `${subscription}.inspect`;
    await this.#subscriber.createSnapshot({ name: snapshot, subscription });
    try {
      await this.#subscriber.seek({ subscription: mirror, snapshot });
      const seen = new Set<string>();
      for (;;) {
        const [response] = await this.#subscriber.pull({ subscription: mirror, maxMessages: 1_000, returnImmediately: true });
        const got = response.receivedMessages ?? [];
        if (got.length === 0) break;
        for (const m of got) seen.add(key(m.message?.attributes ?? {}, m.message?.messageId ?? ''));
        await this.#subscriber.acknowledge({ subscription: mirror, ackIds: got.map((m) => m.ackId as string) });
      }
      return seen.size;
    } finally {
      await this.#subscriber.deleteSnapshot({ snapshot });
    }
  }

  liveCount(queue: string): Promise<number> {
    const r = queueResources(this.#projectId, this.#prefix, queue);
    return this.#count(r.subscription, (_a, messageId) => messageId);
  }

  deadCount(queue: string): Promise<number> {
    const r = queueResources(this.#projectId, this.#prefix, queue);
    // One dead letter per job id (a crash can leave two records of one job).
    return this.#count(r.deadSubscription, (attributes, messageId) => attributes['bg-id'] ?? messageId);
  }

  async sendRaw(queue: string, body: string): Promise<void> {
    const r = queueResources(this.#projectId, this.#prefix, queue);
    // Pub/Sub refuses a message with neither data nor attributes.
    await this.#publisher.publish({
      topic: r.topic,
      messages: [{ data: Buffer.from(body, 'utf8'), ...(body === '' ? { attributes: { 'x-raw': '1' } } : {}) }],
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#publisher.close(), this.#subscriber.close()]);
  }
}

/** The adapter with `ensureQueue` also attaching the inspector's subscriptions. */
export function withInspection(adapter: Adapter, inspector: RawInspector): Adapter {
  return {
    ...withCapabilities(adapter, {}),
    ensureQueue: async (q) => {
      await adapter.ensureQueue(q);
      await inspector.attach(q);
    },
  };
}
