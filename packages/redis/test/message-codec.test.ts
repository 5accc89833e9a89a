import { describe, expect, it } from 'vitest';
import { streamFields, toReceived } from '../src/message-codec.js';

const ID = '01a23453-bf10-7f14-b4ef-ebf44336c13c';
/** A body as the core's envelope writer lays it out: bg, id, type first. */
const envelope = (type: string, id = ID) =>
  `{"bg":1,"id":"${id}","type":${JSON.stringify(type)},"v":1,"payload":{"n":1},"createdAt":"2026-12-02T01:17:13.351Z"}`;
const typed = (type: string) => ({ 'bg-type': type });

/** What a message reads back as from the fields `streamFields` wrote (entry `1796174233395-0`, first delivery). */
const roundTrip = (m: Parameters<typeof streamFields>[0], enqueuedAt?: number) =>
  toReceived('1796174233395-0', streamFields(m, enqueuedAt), 1, 0);

describe('stream entry layout', () => {
  it('a bg job (an envelope body and its lone bg-type) is one field, B, and reads back whole', () => {
    const m = { id: ID, body: envelope('email.welcome'), attributes: typed('email.welcome') };
    expect(streamFields(m), 'streamFields of a usual job').toEqual(['B', m.body]);
    const got = roundTrip(m);
    expect(got.id, 'id read back from the envelope').toBe(ID);
    expect(got.body, 'body read back').toBe(m.body);
    expect(got.attributes, 'bg-type read back from the envelope').toEqual(typed('email.welcome'));
    expect(got.enqueuedAt, 'enqueuedAt is the entry id time').toBe(1796174233395);
  });

  it('the original enqueue time rides along as e', () => {
    const m = { id: ID, body: envelope('a.b'), attributes: typed('a.b') };
    expect(streamFields(m, 1_700_000_000_000)).toEqual(['B', m.body, 'e', '1700000000000']);
    expect(roundTrip(m, 1_700_000_000_000).enqueuedAt, 'enqueuedAt from e').toBe(1_700_000_000_000);
  });

  it.each([
    ['a type JSON escapes (a quote)', 'say "hi"'],
    ['a type JSON escapes (a backslash)', 'a\\b'],
    ['a type JSON escapes (a control character)', 'a\u0001b'],
  ])('%s keeps the long form (b, t), and reads back exactly', (_, type) => {
    const m = { id: ID, body: envelope(type), attributes: typed(type) };
    expect(streamFields(m), `streamFields with type ${JSON.stringify(type)}`).toEqual(['b', m.body, 't', type]);
    expect(roundTrip(m).attributes, 'bg-type read back').toEqual(typed(type));
  });

  it('a bg-type that is not the envelope type keeps the long form', () => {
    const m = { id: ID, body: envelope('a.b'), attributes: typed('a.c') };
    expect(streamFields(m)).toEqual(['b', m.body, 't', 'a.c']);
    expect(roundTrip(m).attributes, 'the attribute sent, not the envelope type').toEqual(typed('a.c'));
  });

  it('an envelope whose type is a prefix of the attribute, or the other way round, keeps the long form', () => {
    const longer = { id: ID, body: envelope('a.b'), attributes: typed('a.bc') };
    const shorter = { id: ID, body: envelope('a.bc'), attributes: typed('a.b') };
    expect(streamFields(longer), 'attribute longer than the envelope type').toEqual(['b', longer.body, 't', 'a.bc']);
    expect(streamFields(shorter), 'attribute shorter than the envelope type').toEqual(['b', shorter.body, 't', 'a.b']);
  });

  it('other attributes, no attributes, another id or a body that is no envelope keep their forms', () => {
    const body = envelope('a.b');
    expect(streamFields({ id: ID, body, attributes: { 'bg-type': 'a.b', 'bg-ordering-key': 'k' } })).toEqual([
      'b',
      body,
      'a',
      JSON.stringify({ 'bg-type': 'a.b', 'bg-ordering-key': 'k' }),
    ]);
    expect(streamFields({ id: ID, body }), 'no attributes').toEqual(['b', body]);
    expect(roundTrip({ id: ID, body }).attributes, 'no attributes read back').toEqual({});
    const other = '01a23453-bf10-7f14-b4ef-000000000000';
    expect(streamFields({ id: other, body, attributes: typed('a.b') }), 'id not the envelope id').toEqual([
      'i',
      other,
      'b',
      body,
      't',
      'a.b',
    ]);
    expect(streamFields({ id: 'x', body: 'plain', attributes: typed('a.b') }), 'not an envelope').toEqual([
      'i',
      'x',
      'b',
      'plain',
      't',
      'a.b',
    ]);
  });

  it('entries in the long form (written before B existed) still read back', () => {
    const body = envelope('a.b');
    const got = toReceived('5-0', ['b', body, 't', 'a.b'], 2, 0);
    expect([got.id, got.body, got.attributes, got.deliveryCount]).toEqual([ID, body, typed('a.b'), 2]);
  });
});
