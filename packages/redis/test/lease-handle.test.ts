import { describe, expect, it } from 'vitest';
import { ackArguments, sortHandles } from '../src/lease-handle.js';

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
