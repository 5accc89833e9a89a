import type { ReceivedMessage } from '@bg/core/adapter';

/**
 * How messages are laid out in a queue's stream and read back: the fields of an entry, and
 * the message an entry read back (as XREADGROUP and XCLAIM give it) stands for.
 */

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

/**
 * The message a stream entry stands for: `fields` as XREADGROUP gives them (name, value, …);
 * `count` is the delivery's count. An entry written by something else than this adapter (no `b`
 * field) has its fields as a JSON object for body, so that the worker dead-letters it readably.
 */
export function toReceived(entryId: string, fields: string[], count: number, leaseExpiresAt: number): ReceivedMessage {
  let b: string | undefined;
  let i: string | undefined;
  let t: string | undefined;
  let a: string | undefined;
  let e: string | undefined;
  for (let j = 0; j + 1 < fields.length; j += 2) {
    const value = fields[j + 1] as string;
    switch (fields[j]) {
      case 'b':
        b = value;
        break;
      case 'i':
        i = value;
        break;
      case 't':
        t = value;
        break;
      case 'a':
        a = value;
        break;
      case 'e':
        e = value;
        break;
    }
  }
  if (b === undefined) {
    const foreign: Record<string, string> = {};
    for (let j = 0; j + 1 < fields.length; j += 2) foreign[fields[j] as string] = fields[j + 1] as string;
    b = JSON.stringify(foreign);
  }
  let attributes: Readonly<Record<string, string>> = NO_ATTRIBUTES;
  if (t !== undefined) attributes = typeAttributes(t);
  else if (a !== undefined) {
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
    enqueuedAt: e !== undefined ? Number(e) : Number.parseInt(entryId, 10),
  };
}
