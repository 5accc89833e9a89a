import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Inspector } from '@bg/conformance';
import type { Adapter } from '@bg/core';
import { type SqsAdapter, type SqsAdapterOptions, sqsAdapter } from '@bg/sqs';
import { inject } from 'vitest';

const info = inject('fauxqs');

/** Why the tests skip (fauxqs missing), or undefined. */
export const skipReason: string | undefined = 'skip' in info ? info.skip : undefined;

/** The emulator's endpoint. */
export function endpoint(): string {
  if ('skip' in info) throw new Error(info.skip);
  return info.endpoint;
}

/** Dummy credentials: fauxqs does not check them. */
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** A fresh adapter on the private emulator. */
export function makeAdapter(options: SqsAdapterOptions = {}): SqsAdapter {
  return sqsAdapter({ endpoint: endpoint(), region: 'us-east-1', credentials: CREDENTIALS, ...options });
}

/** A raw SDK client on the emulator (the inspector's own client, not the adapter's). */
export function rawClient(): SQSClient {
  return new SQSClient({ endpoint: endpoint(), region: 'us-east-1', credentials: CREDENTIALS });
}

async function count(client: SQSClient, name: string): Promise<number> {
  const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
  const { Attributes: a = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/**
 * Reads the emulator with a raw SDK client: every message of the live queue and of the
 * dead-letter queue, in any state.
 */
export function inspector(adapter: Adapter): Inspector {
  const sqs = adapter as SqsAdapter;
  const client = rawClient();
  return {
    liveCount: (queue) => count(client, sqs.sqsQueueName(queue)),
    deadCount: (queue) => count(client, sqs.sqsDeadLetterQueueName(queue)),
    async sendRaw(queue, body) {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: sqs.sqsQueueName(queue) }));
      await client.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: body,
          ...(sqs.capabilities.ordering
            ? { MessageGroupId: 'raw', MessageDeduplicationId: `${Date.now()}-${Math.random()}` }
            : {}),
        }),
      );
    },
  };
}
