import type { ReceivedMessage } from '@bg/core/adapter';

/**
 * How messages are laid out in a queue's stream and read back: the fields of an entry and
 * the receive script's flat reply rows.
 */

/** Values per entry in a receive reply: id, delivery count, then fields b, i, t, a, e (null when absent). */
export const ROW = 7;

/** How a bg envelope body starts: its job id follows. */
const ENVELOPE_HEAD = '{"bg":1,"id":"';

const QUOTE = 34; // "

/** The `bg-type` attribute when it is the only one (the usual case), without listing the keys. */
function onlyType(attributes: Readonly<Record<string, string>>): string | undefined {
  let type: string | undefined;
  for (const name in attributes) {
    if (name !== 'bg-type' || !Object.hasOwn(attributes, name)) return undefined;
    type = attributes[name];
  }
  return type;
}

/** Shared attributes of a message that has none. */
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});
const typeAttributeCache = new Map<string, Readonly<Record<string, string>>>();

/** The frozen `{ 'bg-type': type }` attributes of a message, shared between messages of one type. */
export function typeAttributes(type: string): Readonly<Record<string, string>> {
  let attributes = typeAttributeCache.get(type);
  if (attributes === undefined) {
    attributes = Object.freeze({ 'bg-type': type });
    if (typeAttributeCache.size < 1_000) typeAttributeCache.set(type, attributes);
  }
  return attributes;
}

/**
 * Stream fields of a message: `b` body; `i` job id unless the body is a bg envelope that
 * starts with it (saves ~40 bytes a job); `t` for the usual lone `bg-type` attribute, else
 * `a` with the attributes as JSON; `e` original enqueue time when it differs from the entry's.
 */
export function streamFields(
  m: { id: string; body: string; attributes?: Readonly<Record<string, string>> | undefined },
  enqueuedAt?: number,
): string[] {
  const { body, id } = m;
  const idFirst =
    body.startsWith(ENVELOPE_HEAD) &&
    body.startsWith(id, ENVELOPE_HEAD.length) &&
    body.charCodeAt(ENVELOPE_HEAD.length + id.length) === QUOTE;
  const fields = idFirst ? ['b', body] : ['i', id, 'b', body];
  const attributes = m.attributes;
  if (attributes !== undefined) {
    const type = onlyType(attributes);
    if (type !== undefined) fields.push('t', type);
    else if (Object.keys(attributes).length > 0) fields.push('a', JSON.stringify(attributes));
  }
  if (enqueuedAt !== undefined) fields.push('e', String(enqueuedAt));
  return fields;
}

/** The job id at the head of an envelope body written without an `i` field. */
export function envelopeId(body: string | undefined): string | undefined {
  if (body === undefined || !body.startsWith(ENVELOPE_HEAD)) return undefined;
  const end = body.indexOf('"', ENVELOPE_HEAD.length);
  return end > ENVELOPE_HEAD.length ? body.slice(ENVELOPE_HEAD.length, end) : undefined;
}

/** The message in the receive reply's row starting at `at`. */
export function toReceived(rows: (string | number | null)[], at: number, leaseExpiresAt: number): ReceivedMessage {
  const entryId = rows[at] as string;
  const count = rows[at + 1] as number;
  const b = rows[at + 2] as string;
  const i = rows[at + 3] as string | null;
  const t = rows[at + 4] as string | null;
  const a = rows[at + 5] as string | null;
  const e = rows[at + 6] as string | null;
  let attributes: Readonly<Record<string, string>> = NO_ATTRIBUTES;
  if (t !== null) attributes = typeAttributes(t);
  else if (a !== null) {
    try {
      attributes = JSON.parse(a) as Record<string, string>;
    } catch {
      attributes = {};
    }
  }
  return {
    id: i ?? envelopeId(b) ?? entryId,
    body: b,
    attributes,
    deliveryCount: count,
    handle: `${entryId}:${count}`,
    leaseExpiresAt,
    enqueuedAt: e !== null ? Number(e) : Number.parseInt(entryId, 10),
  };
}
