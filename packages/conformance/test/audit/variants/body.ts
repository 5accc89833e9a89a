import type { OutgoingMessage } from '@bg/core';
import { type Harness, must, receiveOne } from '../harness.js';
import { AUDIT_PAYLOAD_BYTES, healthy, patch, type Variant } from '../variant.js';

/** A variant that rewrites each outgoing message before storing it. */
function rewriting(
  id: string,
  bug: string,
  rewrite: (m: OutgoingMessage, i: number, all: readonly OutgoingMessage[]) => OutgoingMessage,
  check: Variant['check'],
  family = 'body',
): Variant {
  return {
    id,
    family,
    bug,
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, { send: (queue, messages) => inner.send(queue, messages.map(rewrite)) });
    },
    check,
  };
}

/** Checks that `body` comes back byte for byte. */
function bodyRoundTrip(body: string, label: string): Variant['check'] {
  return async (h: Harness) => {
    const a = h.adapter();
    const q = await h.queue();
    await a.send(q, [{ id: 'b1', body }]);
    const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
    must(
      m.body === body,
      `send/receive on ${q} of a body with ${label}: ${JSON.stringify(m.body.slice(0, 60))} (${m.body.length} chars) came back for ${JSON.stringify(body.slice(0, 60))} (${body.length} chars)`,
    );
  };
}

/** Checks that attributes come back exactly. */
function attributesRoundTrip(attributes: Record<string, string>, label: string): Variant['check'] {
  return async (h: Harness) => {
    const a = h.adapter();
    const q = await h.queue();
    await a.send(q, [{ id: 'a1', body: '{}', attributes }]);
    const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
    must(
      JSON.stringify(Object.entries(m.attributes).sort()) === JSON.stringify(Object.entries(attributes).sort()),
      `send/receive on ${q} with ${label}: attributes ${JSON.stringify(m.attributes)}, sent ${JSON.stringify(attributes)}`,
    );
  };
}

/** Body and attribute bugs. */
export const bodyVariants: Variant[] = [
  rewriting(
    'body.trimmed',
    'the body is trimmed before it is stored',
    (m) => ({ ...m, body: m.body.trim() }),
    bodyRoundTrip('  {"a":1}\n', 'leading and trailing whitespace'),
  ),
  rewriting(
    'body.crlf-normalised',
    'CRLF line endings are normalised to LF (a text-mode transport)',
    (m) => ({ ...m, body: m.body.replace(/\r\n/g, '\n') }),
    bodyRoundTrip('line 1\r\nline 2\r\n', 'CRLF line endings'),
  ),
  rewriting(
    'body.control-chars-stripped',
    'NUL and other C0 control characters are stripped (an XML-based transport)',
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the bug is exactly this
    (m) => ({ ...m, body: m.body.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '') }),
    bodyRoundTrip('a\u0000b\u0001c\u001bd', 'NUL, SOH and ESC'),
  ),
  rewriting(
    'body.dollar-patterns',
    "the body is put into a template with String.replace, so $& and $' patterns are expanded",
    (m) => ({ ...m, body: '%BODY%'.replace('%BODY%', m.body) }),
    bodyRoundTrip('{"price":"$&","x":"$$"}', '$& and $$ patterns'),
  ),
  rewriting(
    'body.utf8-read-as-latin1',
    'the body is written as UTF-8 bytes and read back as latin1 (non-ASCII comes back mangled)',
    (m) => ({ ...m, body: Buffer.from(m.body, 'utf8').toString('latin1') }),
    bodyRoundTrip('{"name":"Zoë ✓ 🎉"}', 'non-ASCII characters'),
  ),
  rewriting(
    'body.unicode-normalised',
    'the body is NFC-normalised on the way in',
    (m) => ({ ...m, body: m.body.normalize('NFC') }),
    bodyRoundTrip('{"name":"Zoe\u0308"}', 'a combining diaeresis (NFD)'),
  ),
  rewriting(
    'body.cut-near-limit',
    "the body is cut to leave 256 bytes of room for the adapter's own framing, silently",
    (m) => ({ ...m, body: m.body.slice(0, AUDIT_PAYLOAD_BYTES - 256) }),
    bodyRoundTrip('x'.repeat(AUDIT_PAYLOAD_BYTES - 10), 'a length 10 bytes under the limit'),
  ),
  rewriting(
    'attributes.extra-keys',
    'the adapter keeps the job id in an attribute of its own and does not strip it on receive',
    (m) => ({ ...m, attributes: { ...m.attributes, 'bg-id': m.id } }),
    attributesRoundTrip({ type: 't' }, 'one attribute'),
    'attributes',
  ),
  rewriting(
    'attributes.batch-shares-first',
    'every entry of a batch is sent with the attributes of the first entry',
    (m, _i, all) => ({ ...m, ...(all[0]?.attributes ? { attributes: all[0].attributes } : {}) }),
    async (h) => {
      const a = h.adapter();
      const q = await h.queue();
      await a.send(q, [
        { id: 'x1', body: '1', attributes: { type: 'one' } },
        { id: 'x2', body: '2', attributes: { type: 'two', extra: 'e' } },
      ]);
      const got = await a.receive(q, { max: 10, leaseMs: 5_000, waitMs: 500 });
      const x2 = got.find((m) => m.id === 'x2');
      must(
        x2 !== undefined && x2.attributes['type'] === 'two' && x2.attributes['extra'] === 'e',
        `send batch on ${q}: entry x2 came back with attributes ${JSON.stringify(x2?.attributes)}, sent {"type":"two","extra":"e"}`,
      );
    },
    'attributes',
  ),
  rewriting(
    'attributes.keys-lowercased',
    'attribute names are lower-cased (they travel as HTTP headers)',
    (m) => ({
      ...m,
      ...(m.attributes
        ? { attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k.toLowerCase(), v])) }
        : {}),
    }),
    attributesRoundTrip({ traceParent: '00-abc-01', Type: 'T' }, 'mixed-case names'),
    'attributes',
  ),
  rewriting(
    'attributes.empty-values-dropped',
    'attributes whose value is the empty string are dropped (the backend refuses empty values)',
    (m) => ({
      ...m,
      ...(m.attributes ? { attributes: Object.fromEntries(Object.entries(m.attributes).filter(([, v]) => v !== '')) } : {}),
    }),
    attributesRoundTrip({ type: 't', tenant: '' }, 'an empty value'),
    'attributes',
  ),
];
