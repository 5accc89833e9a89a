import { type Envelope, encodeEnvelope } from './envelope.js';
import type { JsonValue } from './json-value.js';

/** The fields every envelope of one enqueue call shares. */
export interface SharedEnvelopeFields {
  readonly type: string;
  readonly v: number;
  readonly key?: string | undefined;
  readonly trace?: Envelope['trace'];
  readonly meta?: Envelope['meta'];
}

/**
 * Writes the stored text of one job's envelope from its own fields. It checks none of them:
 * the caller passes only fields it made or checked (else it takes {@link encodeEnvelope}'s
 * path, which explains what is wrong).
 *
 * @param id The job id: a UUID (`isUuid`).
 * @param payload A payload that passed `assertJsonValue`.
 * @param createdAt Creation time as envelopes store it (`isIsoDatetime`).
 */
export type EnvelopeWriter = (id: string, payload: JsonValue, createdAt: string) => string;

/** A valid id and time for checking the shared fields once. */
const SAMPLE_ID = '00000000-0000-7000-8000-000000000000';
const SAMPLE_TIME = '1970-01-01T00:00:00.000Z';

/**
 * The {@link EnvelopeWriter} of the jobs of one enqueue call (the producer's hot path). The
 * shared fields are checked once here, by {@link encodeEnvelope} itself (it throws
 * `INVALID_ARGUMENT` as it would for each job); each job's envelope is then written by
 * `JSON.stringify` in the field order `encodeEnvelope` writes, without a second check: the
 * same text, one flat string. An envelope with `notBefore` is not written here: the caller encodes such a job
 * whole.
 */
export function envelopeWriter(shared: SharedEnvelopeFields): EnvelopeWriter {
  const { type, v } = shared;
  const rest: Partial<Envelope> = {};
  if (shared.key !== undefined) rest.key = shared.key;
  if (shared.trace !== undefined) rest.trace = { ...shared.trace };
  if (shared.meta !== undefined) rest.meta = { ...shared.meta };
  // Throws INVALID_ARGUMENT for a bad type, version, key, trace or meta (what each job would).
  encodeEnvelope({ bg: 1, id: SAMPLE_ID, type, v, payload: null, createdAt: SAMPLE_TIME, ...rest });
  const plain = rest.key === undefined && rest.trace === undefined && rest.meta === undefined;
  return (id, payload, createdAt) => {
    // One object shape per call: the fields in the stored order.
    const envelope: Envelope = { bg: 1, id, type, v, payload, createdAt };
    return JSON.stringify(plain ? envelope : Object.assign(envelope, rest));
  };
}
