import type { ReceivedMessage } from '@bg/core/adapter';
import { leaseHandle } from './lease-handle.js';

/**
 * How messages are laid out in a queue's stream and read back: the fields of an entry, and
 * the message an entry read back (as XREADGROUP and XCLAIM give it) stands for.
 */

/** How a bg envelope body starts: its job id follows. */
const ENVELOPE_HEAD = '{"bg":1,"id":"';
/** What follows the job id in a bg envelope body: its job type follows. */
const TYPE_HEAD = '","type":"';

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
 * Stream fields of a message: `B` body alone when the body is a bg envelope that starts with
 * the job id and its type and the message's only attribute is that `bg-type` (the usual job:
 * an entry of one field, which a reader decodes at two thirds of the cost of the longer form);
 * otherwise `b` body, `i` job id unless the body is a bg envelope that starts with it (saves
 * ~40 bytes a job), `t` for a lone `bg-type` attribute, else `a` with the attributes as JSON.
 * Either way `e` original enqueue time when it differs from the entry's.
 */
export function streamFields(
  m: { id: string; body: string; attributes?: Readonly<Record<string, string>> | undefined },
  enqueuedAt?: number,
): string[] {
  const fields: string[] = [];
  appendStreamFields(fields, m, enqueuedAt);
  return fields;
}

/** Appends {@link streamFields} of `m` to `out` (no array of its own); returns how many. */
export function appendStreamFields(
  out: string[],
  m: { id: string; body: string; attributes?: Readonly<Record<string, string>> | undefined },
  enqueuedAt?: number,
): number {
  const start = out.length;
  const { body, id } = m;
  const idFirst =
    body.startsWith(ENVELOPE_HEAD) &&
    body.startsWith(id, ENVELOPE_HEAD.length) &&
    body.charCodeAt(ENVELOPE_HEAD.length + id.length) === QUOTE;
  const attributes = m.attributes;
  const type = attributes === undefined ? undefined : onlyType(attributes);
  if (idFirst && type !== undefined && typeFollows(body, ENVELOPE_HEAD.length + id.length, type)) out.push('B', body);
  else {
    if (idFirst) out.push('b', body);
    else out.push('i', id, 'b', body);
    if (type !== undefined) out.push('t', type);
    else if (attributes !== undefined && Object.keys(attributes).length > 0) out.push('a', JSON.stringify(attributes));
  }
  if (enqueuedAt !== undefined) out.push('e', String(enqueuedAt));
  return out.length - start;
}

/**
 * Whether `body` holds `"type":"<type>"` right after the job id ending at `at`, as written (a
 * type JSON escapes never matches, so the type read back from a `B` entry is the type sent).
 */
function typeFollows(body: string, at: number, type: string): boolean {
  const start = at + TYPE_HEAD.length;
  return body.startsWith(TYPE_HEAD, at) && body.startsWith(type, start) && body.charCodeAt(start + type.length) === QUOTE;
}

/** The job type of a `B` entry's envelope body, after its id; undefined when it has none. */
function envelopeType(body: string, idEnd: number): string | undefined {
  if (!body.startsWith(TYPE_HEAD, idEnd)) return undefined;
  const start = idEnd + TYPE_HEAD.length;
  const end = body.indexOf('"', start);
  return end > start ? body.slice(start, end) : undefined;
}

/** The error a send to a queue whose stream is gone answers with (mapped to `QUEUE_NOT_FOUND`). */
export const MISSING_QUEUE_ERROR = 'NOGROUP the queue stream does not exist (the queue was deleted)';
/** {@link MISSING_QUEUE_ERROR} as a Lua error table, for `pcall`-style replies. */
const MISSING_QUEUE_REPLY = `{ err = '${MISSING_QUEUE_ERROR}' }`;

/**
 * Appends plain messages to a stream in one call: one command instead of one XADD each (the
 * client's cost per command is most of a send's). KEYS: the stream. ARGV: for each message
 * its number of field arguments, then those ({@link streamFields}). Each XADD runs on its own
 * (`pcall`), so a refusal names exactly the entries not stored, as a pipeline of XADDs would:
 * the reply lists, for each entry not stored, its place (0-based) and its error; it is empty
 * when all were stored. A stream that does not exist (the queue was deleted, maybe by another
 * process since this one last checked) is not made: every entry fails with `NOGROUP`.
 */
export const XADD_MANY = `
local failed, n, i = {}, 0, 1
local missing = redis.call('EXISTS', KEYS[1]) == 0
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  local r = ${MISSING_QUEUE_REPLY}
  if not missing then r = redis.pcall('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + count)) end
  if type(r) == 'table' and r.err then
    failed[#failed + 1] = n
    failed[#failed + 1] = r.err
  end
  n = n + 1
  i = i + count + 1
end
return failed
`;

/** The errors of the entries an {@link XADD_MANY} call did not store, by place in the call. */
export function xaddManyFailures(reply: unknown): Map<number, string> | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const failures = new Map<number, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) failures.set(Number(reply[i]), String(reply[i + 1]));
  return failures;
}

/**
 * Messages one {@link XADD_MANY} call carries at most: a script holds the server while it runs
 * (~3–4 µs per entry), so a call stays under half a millisecond and other clients get in between.
 */
export const XADD_MANY_MESSAGES = 100;
/**
 * Body characters one {@link XADD_MANY} call carries at most (one larger message goes alone):
 * a command is read whole before it runs, so this keeps each far below Redis's request limits
 * and the time it holds the server short.
 */
export const XADD_MANY_CHARS = 4 * 1024 * 1024;

/** The job id at the head of an envelope body written without an `i` field. */
export function envelopeId(body: string | undefined): string | undefined {
  if (body === undefined || !body.startsWith(ENVELOPE_HEAD)) return undefined;
  const end = body.indexOf('"', ENVELOPE_HEAD.length);
  return end > ENVELOPE_HEAD.length ? body.slice(ENVELOPE_HEAD.length, end) : undefined;
}

/**
 * The message a stream entry stands for: `fields` as XREADGROUP gives them (name, value, …);
 * `count` is the delivery's count. An entry written by something else than this adapter (no `b`
 * nor `B` field) has its fields as a JSON object for body, so that the worker dead-letters it readably.
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
      case 'B': {
        // The id and the lone `bg-type` attribute are the envelope's own (see appendStreamFields).
        b = value;
        i = envelopeId(value);
        if (i !== undefined) t = envelopeType(value, ENVELOPE_HEAD.length + i.length);
        break;
      }
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
    handle: leaseHandle(entryId, count),
    leaseExpiresAt,
    enqueuedAt: e !== undefined ? Number(e) : Number.parseInt(entryId, 10),
  };
}
