import type { Adapter } from '@bg/core';
import { pubsubAdapter } from '../src/index.js';

/** The conformance suite's child-process worker builds its adapter with this (same emulator). */
export default function createAdapter(_queue: string): Adapter {
  const endpoint = process.env.BG_PUBSUB_ENDPOINT;
  if (!endpoint) throw new Error('BG_PUBSUB_ENDPOINT is not set');
  return pubsubAdapter({ apiEndpoint: endpoint, projectId: process.env.BG_PUBSUB_PROJECT ?? 'bg-test' });
}
