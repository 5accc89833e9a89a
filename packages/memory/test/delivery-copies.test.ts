import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../src/index.js';

describe('what the memory adapter hands out is a copy, as a real backend decodes one', () => {
  it('changing a delivery’s attributes does not change the next delivery of the job', async () => {
    const adapter = memoryAdapter();
    await adapter.send('copies', [{ id: 'j1', body: '{}', attributes: { 'bg-type': 'ping', tenant: 't1' } }]);
    const [first] = await adapter.receive('copies', { max: 1, leaseMs: 1_000 });
    if (!first) throw new Error('receive: the job sent just before');
    const attributes = first.attributes as Record<string, string>;
    attributes.tenant = 't2';
    delete attributes['bg-type'];
    await adapter.release('copies', first.handle, 0);
    const [second] = await adapter.receive('copies', { max: 1, leaseMs: 1_000 });
    expect(second?.attributes, 'attributes of the delivery after the first one’s were changed').toEqual({
      'bg-type': 'ping',
      tenant: 't1',
    });
    await adapter.close();
  });

  it('changing a listed or fetched dead letter does not change the stored one', async () => {
    const adapter = memoryAdapter();
    await adapter.send('copies', [{ id: 'j1', body: 'original', attributes: { tenant: 't1' } }]);
    const [m] = await adapter.receive('copies', { max: 1, leaseMs: 1_000 });
    if (!m) throw new Error('receive: the job sent just before');
    await adapter.deadLetter('copies', m, { reason: 'manual', attempts: 1, deadLetteredAt: 1, error: { message: 'boom' } });
    await adapter.ack('copies', m.handle);
    const listed = (await adapter.listDeadLetters('copies')).items[0] as { attributes: Record<string, string>; body: string };
    listed.attributes.tenant = 't2';
    listed.body = 'changed';
    const fetched = await adapter.getDeadLetter('copies', 'j1');
    (fetched?.error as { message: string }).message = 'changed';
    const again = await adapter.getDeadLetter('copies', 'j1');
    expect(
      { body: again?.body, attributes: again?.attributes, error: again?.error?.message },
      'the stored dead letter after a caller changed the copies it was handed',
    ).toEqual({ body: 'original', attributes: { tenant: 't1' }, error: 'boom' });
    await adapter.close();
  });
});
