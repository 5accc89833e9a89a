import type { Adapter } from '@bg/core';
import { sqsAdapter } from '@bg/sqs';

/**
 * The conformance suite's worker-process hook: builds an adapter in a child process,
 * connected to the emulator named by `BG_SQS_ENDPOINT` (and `BG_SQS_FIFO=1` for FIFO).
 */
export default function createAdapter(_queue: string): Adapter {
  const endpoint = process.env.BG_SQS_ENDPOINT;
  if (!endpoint) throw new Error('BG_SQS_ENDPOINT is not set');
  return sqsAdapter({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    fifo: process.env.BG_SQS_FIFO === '1',
  });
}
