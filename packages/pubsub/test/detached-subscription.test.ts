import { randomBytes } from 'node:crypto';
import { isBgError } from '@bg/core';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { describe, expect, inject, it } from 'vitest';
import { pubsubAdapter, queueResources } from '../src/index.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

describe.skipIf(!endpoint)('a queue whose topic another process deleted (its subscriptions left on _deleted-topic_)', () => {
  for (const which of ['topic', 'deadTopic'] as const) {
    it(`ensureQueue refuses it when the ${which === 'topic' ? 'jobs' : 'dead-letter'} topic was deleted (BACKEND_ERROR, not retryable) and creates nothing`, async () => {
      const queue = `detached-${randomBytes(4).toString('hex')}`;
      const resources = queueResources(projectId, 'bg-', queue);
      const options = new PubSub({ apiEndpoint: endpoint, emulatorMode: true, projectId }).options as ConstructorParameters<
        typeof v1.PublisherClient
      >[0];
      const publisher = new v1.PublisherClient(options);
      const first = pubsubAdapter({ apiEndpoint: endpoint, projectId });
      const second = pubsubAdapter({ apiEndpoint: endpoint, projectId });
      try {
        await first.ensureQueue(queue);
        // Another process deletes the topic (gcloud, or a deleteQueue racing an ensureQueue):
        // Pub/Sub leaves the subscription attached to `_deleted-topic_`.
        await publisher.deleteTopic({ topic: resources[which] });
        const error = await second.ensureQueue(queue).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(
          isBgError(error, 'BACKEND_ERROR') && { retryable: error.retryable, names: error.message.includes('_deleted-topic_') },
          `ensureQueue after ${which} was deleted: ${String(error)} (it resolved and created the topic again, which feeds no subscription: every job sent then was dropped)`,
        ).toEqual({ retryable: false, names: true });
        const [topics] = await publisher.listTopics({ project: `projects/${projectId}` });
        expect(
          topics.some((t) => t.name === resources[which]),
          `${resources[which]} created again by the refused ensureQueue`,
        ).toBe(false);
        if (which === 'topic') {
          const sent = await second.send(queue, [{ id: 'after-delete', body: '{}' }]).then(
            () => 'stored',
            (e: unknown) => (isBgError(e) ? e.code : String(e)),
          );
          expect(sent, 'send after the refused ensureQueue: a typed failure, never a silent drop').toBe('QUEUE_NOT_FOUND');
        }
      } finally {
        await Promise.all([first.close(), second.close(), publisher.close()]);
      }
    });
  }
});
