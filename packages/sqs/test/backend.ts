import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type Inspector, REFUSED_SUFFIX } from '@bg/conformance';
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

/**
 * An adapter whose SDK client has SQS refuse every batch entry whose job id ends in
 * `-refused` (the entry is not sent and comes back under `Failed`, as SQS answers an entry it
 * rejects): the conformance suite's `errors.refusedEntry` scenario.
 */
export function refusingAdapter(options: SqsAdapterOptions = {}): Adapter {
  const client = rawClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as SendMessageBatchCommandInput;
      if (context.commandName !== 'SendMessageBatchCommand' || !input.Entries) return next(args);
      const refused = input.Entries.filter((e) => e.MessageAttributes?.['bg.id']?.StringValue?.endsWith(REFUSED_SUFFIX));
      if (refused.length === 0) return next(args);
      const kept = input.Entries.filter((e) => !refused.includes(e));
      const failed = refused.map((e) => ({
        Id: e.Id,
        SenderFault: true,
        Code: 'InvalidParameterValue',
        Message: 'refused by the test',
      }));
      if (kept.length === 0) {
        const output: SendMessageBatchCommandOutput = { Successful: [], Failed: failed, $metadata: {} };
        return { output, response: {} } as Awaited<ReturnType<typeof next>>;
      }
      const result = await next({ ...args, input: { ...input, Entries: kept } });
      const output = result.output as SendMessageBatchCommandOutput;
      return { ...result, output: { ...output, Failed: [...(output.Failed ?? []), ...failed] } };
    },
    { step: 'initialize', name: 'bgConformanceRefuseEntries' },
  );
  const adapter = makeAdapter({ ...options, client });
  return {
    ...adapter,
    close: async () => {
      await adapter.close();
      client.destroy();
    },
  };
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
