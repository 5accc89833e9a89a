import { describe, expect, it } from 'vitest';
import { ackArguments, leaseHandle, parseHandle, sortHandles } from '../src/lease-handle.js';

describe('sortHandles (the order the ack scripts read the pending list in)', () => {
  it('orders by stream order, not by text, and moves the settlers along', () => {
    // Text order would put "…-10" before "…-9" and a 13-digit ms before a 12-digit one.
    const handles = ['1700000000000-9:1', '1700000000000-10:2', '999999999999-5:1', '1700000000001-0:1', '1700000000000-11:1'];
    const settlers = handles.flatMap((h) => [`resolve ${h}`, `reject ${h}`]);
    sortHandles(handles, settlers);
    expect(handles).toEqual([
      '999999999999-5:1',
      '1700000000000-9:1',
      '1700000000000-10:2',
      '1700000000000-11:1',
      '1700000000001-0:1',
    ]);
    expect(settlers).toEqual(handles.flatMap((h) => [`resolve ${h}`, `reject ${h}`]));
  });

  it('keeps handles of one entry in their order, and leaves ordered handles alone', () => {
    const handles = ['5-5:2', '4-0:1', '5-5:1'];
    const settlers = ['a', 'A', 'b', 'B', 'c', 'C'];
    sortHandles(handles, settlers);
    expect(handles).toEqual(['4-0:1', '5-5:2', '5-5:1']);
    expect(settlers).toEqual(['b', 'B', 'a', 'A', 'c', 'C']);
    const ordered = ['42-1:1', '42-2:1', '42-20:1'];
    sortHandles(ordered, []);
    expect(ordered).toEqual(['42-1:1', '42-2:1', '42-20:1']);
  });
});

describe('ackArguments (the id range the ack scripts read with one XPENDING, then ids and counts)', () => {
  it('takes the first and last handle as the range, then each entry id and count', () => {
    expect(ackArguments(['42-1:1', '42-2:3', '42-20:1'])).toEqual(['42-1', '42-20', '42-1', '1', '42-2', '3', '42-20', '1']);
  });

  it('takes a lone handle as both ends', () => {
    expect(ackArguments(['1-0:3'])).toEqual(['1-0', '1-0', '1-0', '3']);
    expect(ackArguments(['5-5:1', '5-5:2'])).toEqual(['5-5', '5-5', '5-5', '1', '5-5', '2']);
  });
});

describe('first deliveries: the handle is the entry id alone', () => {
  it('leaseHandle and parseHandle agree for every count, and a bare id is count 1', () => {
    expect(leaseHandle('1700000000000-3', 1), 'handle of a first delivery').toBe('1700000000000-3');
    expect(leaseHandle('1700000000000-3', 2), 'handle of a redelivery').toBe('1700000000000-3:2');
    expect(parseHandle('1700000000000-3'), 'a bare entry id').toEqual({ entry: '1700000000000-3', count: '1' });
    expect(parseHandle('1700000000000-3:1'), 'the long form of count 1 (earlier versions)').toEqual({
      entry: '1700000000000-3',
      count: '1',
    });
    expect(parseHandle('1700000000000-3:12'), 'a redelivery').toEqual({ entry: '1700000000000-3', count: '12' });
    for (const bad of ['', '1700000000000', '1700000000000-3:', ':1', '1-2:3:4', '1-2 ', 'x-1']) {
      expect(() => parseHandle(bad), `parseHandle(${JSON.stringify(bad)})`).toThrow(/not a lease handle of the Redis adapter/);
    }
  });

  it('sorts and acks bare and long handles together', () => {
    const handles = ['42-20', '42-2:3', '42-1'];
    const settlers = ['a', 'A', 'b', 'B', 'c', 'C'];
    sortHandles(handles, settlers);
    expect(handles, 'stream order of mixed handles').toEqual(['42-1', '42-2:3', '42-20']);
    expect(settlers, 'settlers moved along').toEqual(['c', 'C', 'b', 'B', 'a', 'A']);
    expect(ackArguments(handles), 'range, then id and count of each').toEqual([
      '42-1',
      '42-20',
      '42-1',
      '1',
      '42-2',
      '3',
      '42-20',
      '1',
    ]);
  });
});
