/**
 * The message every contestant of this bench sends: the bytes the public API sends for one
 * `benchJob` (its JSON envelope around the ~200-byte payload: 328 bytes, a 36-character job
 * id, the `bg-type` attribute), so that the raw loop, the adapter and the core make the
 * server store and hand out the same bytes. (`benchBody` is the bare payload: a raw
 * loop sending it would ask less of the server than the core does.) Each body is
 * serialised when sent, as any producer serialises its job; the ids are a per-round prefix
 * and the job's number (the core makes a UUID v7 per job: that is the core's own work).
 */
import { randomUUID } from 'node:crypto';

/** One bench message: the job id, its body and attributes as the core would send them. */
export interface JobMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

const payload = { userId: 'u-0', locale: 'de', note: 'x'.repeat(160) };
const attributes = Object.freeze({ 'bg-type': 'bench.noop' });

/** What the messages of one round share: an id prefix and their `createdAt`. */
export interface RoundStamp {
  readonly prefix: string;
  readonly createdAt: string;
}

/** A fresh {@link RoundStamp}. */
export function roundStamp(): RoundStamp {
  return { prefix: randomUUID().slice(0, 24), createdAt: new Date().toISOString() };
}

/** The message of job `i` of a round: 36-character id, the core's envelope as body. */
export function jobMessage(i: number, { prefix, createdAt }: RoundStamp): JobMessage {
  const id = `${prefix}${String(i).padStart(12, '0')}`;
  const body = JSON.stringify({
    bg: 1,
    id,
    type: 'bench.noop',
    v: 1,
    payload: { ...payload, userId: `u-${i}` },
    createdAt,
  });
  return { id, body, attributes };
}
