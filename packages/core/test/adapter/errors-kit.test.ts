import { describe, expect, it } from 'vitest';
import {
  BgError,
  networkError,
  partialSendError,
  TRANSIENT_NETWORK_CODES,
  tlsFailureCode,
  transientNetworkCode,
} from '../../src/adapter/index.js';

describe('partialSendError', () => {
  const messages = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];

  it('has one details shape: failedIds, sentIds, failed[{ id, code, message }]', () => {
    const e = partialSendError('sqs', messages, [{ id: 'b', code: 'InvalidParameterValue', message: 'bad body' }]);
    expect(`${e.code}/${e.retryable}`, 'no cause: BACKEND_ERROR, retryable').toBe('BACKEND_ERROR/true');
    expect(e.details, 'details').toEqual({
      failedIds: ['b'],
      sentIds: ['a', 'c'],
      failed: [{ id: 'b', code: 'InvalidParameterValue', message: 'bad body' }],
    });
    expect(e.message, 'message names the count, the ids and the reason').toBe(
      'sqs: 1 of 3 messages were not stored (b): bad body',
    );
  });

  it("takes a BgError cause's code, retryable and details (ours win on the same keys)", () => {
    const cause = new BgError('AUTH_FAILED', 'denied', { retryable: false, details: { status: 403, failedIds: ['zz'] } });
    const e = partialSendError('redis', messages, [{ id: 'a' }, { id: 'b' }, { id: 'c' }], cause);
    expect(`${e.code}/${e.retryable}`).toBe('AUTH_FAILED/false');
    expect(e.details, 'details').toEqual({
      status: 403,
      failedIds: ['a', 'b', 'c'],
      sentIds: [],
      failed: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
    });
    expect(e.cause).toBe(cause);
  });

  it('redacts secrets in entry messages', () => {
    const e = partialSendError('x', messages, [{ id: 'a', message: 'rejected redis://u:hunter2@h/0' }]);
    expect(JSON.stringify(e.details) + e.message, 'no password in details or message').not.toContain('hunter2');
  });
});

describe('network-error classification', () => {
  it('finds a transient code on the error, its cause chain, an AggregateError, or its message', () => {
    const cases: [string, unknown, string | undefined][] = [
      ['code', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
      [
        'cause',
        new Error('fetch failed', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_SOCKET' }) }),
        'UND_ERR_SOCKET',
      ],
      [
        'aggregate',
        new AggregateError([new Error('a'), Object.assign(new Error('b'), { code: 'EHOSTUNREACH' })]),
        'EHOSTUNREACH',
      ],
      ['message', new Error('connect ETIMEDOUT 10.0.0.1:443'), 'ETIMEDOUT'],
      ['hang up', new Error('socket hang up'), 'ECONNRESET'],
      ['other code', Object.assign(new Error('x'), { code: 'ERR_INVALID_URL' }), undefined],
      ['plain', new Error('AccessDenied'), undefined],
      ['not an error', 'ECONNREFUSED', undefined],
      ['null', null, undefined],
    ];
    for (const [name, error, code] of cases) expect(transientNetworkCode(error), name).toBe(code);
    for (const code of TRANSIENT_NETWORK_CODES) {
      expect(transientNetworkCode(Object.assign(new Error('x'), { code })), `listed code ${code}`).toBe(code);
    }
  });

  it('networkError maps to UNREACHABLE, retryable, or undefined for other errors', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const e = networkError('SQS', 'ReceiveMessage', cause);
    expect(`${e?.code}/${e?.retryable}`).toBe('UNREACHABLE/true');
    expect(e?.details, 'details.networkCode').toEqual({ networkCode: 'ECONNREFUSED' });
    expect(e?.cause).toBe(cause);
    expect(networkError('SQS', 'x', new Error('QueueDoesNotExist')), 'not a network error').toBeUndefined();
  });

  it('a TLS handshake that cannot succeed is UNREACHABLE and not retryable (configuration, not an outage)', () => {
    const wrongProtocol = Object.assign(new Error('write EPROTO 40E8:error:0A00010B:SSL routines::wrong version number'), {
      code: 'EPROTO',
    });
    const selfSigned = new Error('request failed', {
      cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    });
    const cases: [string, unknown, string | undefined][] = [
      ['https to a plain port', wrongProtocol, 'EPROTO'],
      ['self-signed, in the cause', selfSigned, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
      ['host name', Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'ERR_TLS_CERT_ALTNAME_INVALID'],
      ['text only', new Error('SSL routines::wrong version number'), 'TLS'],
      [
        'a reset during the handshake stays transient',
        Object.assign(new Error('socket disconnected'), { code: 'ECONNRESET' }),
        undefined,
      ],
    ];
    for (const [name, error, code] of cases) expect(tlsFailureCode(error), name).toBe(code);
    const e = networkError('Redis', 'connect', wrongProtocol);
    expect(`${e?.code}/${e?.retryable}`, 'networkError of a TLS failure').toBe('UNREACHABLE/false');
    expect(e?.details, 'details.tls').toEqual({ tls: 'EPROTO' });
    expect(e?.message, 'the message says what to check').toMatch(/protocol .* certificate/);
    expect(networkError('Redis', 'x', wrongProtocol.message), 'a string is no error object').toBeUndefined();
  });
});
