import { randomBytes, randomUUID } from 'node:crypto';
import type { DeadLetterReason } from '@bg/core';

/** What a backend can take raw, besides UTF-8 text. */
export interface RawLimits {
  /** Size of the oversized body: as large as the backend accepts from its own client. */
  readonly oversizedBytes: number;
  /** How a binary body is written: real bytes, or text (backends whose bodies are text only). */
  readonly binary: 'bytes' | 'text';
}

/** One raw message injected straight into the queue with the backend's own client. */
export interface Garbage {
  /** What it is (for the summary). */
  readonly kind: string;
  /** A unique ASCII marker inside the body: how its dead letter is recognised. */
  readonly marker: string;
  readonly body: string | Buffer;
  /** The reason the worker must dead-letter it with. */
  readonly reason: DeadLetterReason;
}

const MARK = 'chaos-garbage';

function envelope(fields: Record<string, unknown>): string {
  return JSON.stringify({ bg: 1, id: randomUUID(), createdAt: new Date().toISOString(), ...fields });
}

/**
 * Random bytes as text a text-only queue accepts (SQS and Azure take XML 1.0 characters
 * only): control bytes become private-use characters, the rest box-drawing and Latin
 * Extended characters (no astral ones: fauxqs refuses surrogate pairs that real SQS accepts) — never valid JSON, never a bg envelope.
 */
function binaryText(bytes: Buffer): string {
  let text = '';
  for (const b of bytes)
    text += b < 32 ? String.fromCharCode(0xe000 + b) : b < 128 ? String.fromCharCode(0x2500 + b) : String.fromCharCode(0x100 + b);
  return text;
}

/**
 * The garbage set: invalid JSON, a JSON value that is no envelope, an unknown envelope
 * format version, an unknown job type, a payload failing its schema, a newer payload
 * version, an oversized body and a binary body. Each carries a marker so its dead letter
 * can be found by body.
 */
export function garbageSet(limits: RawLimits): Garbage[] {
  const tag = (kind: string): string => `${MARK}-${kind}-${randomUUID()}`;
  const items: Garbage[] = [];
  const add = (kind: string, reason: DeadLetterReason, make: (marker: string) => string | Buffer): void => {
    const marker = tag(kind);
    items.push({ kind, marker, body: make(marker), reason });
  };
  add('invalid-json', 'malformed-envelope', (m) => `{"bg":1,"id":"${m}", "type": chaos.healthy`);
  add('non-envelope', 'malformed-envelope', (m) => JSON.stringify({ hello: m, list: [1, 2, 3] }));
  add('envelope-v2', 'malformed-envelope', (m) => JSON.stringify({ bg: 2, id: randomUUID(), marker: m }));
  add('unknown-type', 'unknown-type', (m) => envelope({ type: 'chaos.nobody-handles-this', v: 1, payload: { m } }));
  add('bad-payload', 'invalid-payload', (m) =>
    envelope({ type: 'chaos.healthy', v: 1, payload: { n: 'not a number', workMs: -1, m } }),
  );
  add('newer-version', 'unknown-version', (m) => envelope({ type: 'chaos.healthy', v: 99, payload: { m } }));
  add('oversized', 'malformed-envelope', (m) => {
    const head = `${m} `;
    return head + 'x'.repeat(Math.max(0, limits.oversizedBytes - Buffer.byteLength(head)));
  });
  add('binary', 'malformed-envelope', (m) => {
    const noise = randomBytes(512);
    return limits.binary === 'bytes' ? Buffer.concat([Buffer.from(`${m} `), noise]) : `${m} ${binaryText(noise)}`;
  });
  return items;
}

/** The garbage marker found in a dead letter's body, if any. */
export function garbageMarker(body: string): string | undefined {
  const at = body.indexOf(MARK);
  if (at < 0) return undefined;
  const match = /^chaos-garbage-[a-z0-9-]+?-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(body.slice(at));
  return match?.[0];
}
