import { randomBytes } from 'node:crypto';
import { isBgError } from '@bg/core';
import { describe, expect, inject, it } from 'vitest';
import { pubsubAdapter } from '../src/index.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

describe.skipIf(!endpoint)('a handle released through an adapter that did not receive it', () => {
  it('is LEASE_LOST for that adapter’s later extend, release and ack (an extend cancelled the release)', async () => {
    const queue = `foreign-release-${randomBytes(4).toString('hex')}`;
    const receiver = pubsubAdapter({ apiEndpoint: endpoint, projectId });
    const other = pubsubAdapter({ apiEndpoint: endpoint, projectId });
    try {
      await receiver.ensureQueue(queue);
      await receiver.send(queue, [{ id: 'j1', body: '{}' }]);
      const got = [];
      for (let i = 0; i < 20 && got.length === 0; i++) {
        got.push(...(await receiver.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 1_000 })));
      }
      const handle = got[0]?.handle ?? '';
      expect(got.length, 'the job received').toBe(1);
      await other.release(queue, handle, 30_000);
      for (const [call, run] of [
        ['extend', () => other.extend(queue, handle, 60_000)],
        ['release', () => other.release(queue, handle, 0)],
        ['ack', () => other.ack(queue, handle)],
      ] as const) {
        const outcome = await (run() as Promise<unknown>).then(
          () => 'resolved',
          (e: unknown) => (isBgError(e) ? e.code : String(e)),
        );
        expect(
          outcome,
          `${call} by the adapter that released the handle (README: a handle this adapter released is LEASE_LOST)`,
        ).toBe('LEASE_LOST');
      }
    } finally {
      await Promise.all([receiver.close(), other.close()]);
    }
  });
});
