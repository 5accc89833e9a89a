import { describe, expect, it } from 'vitest';
import { ackArguments } from '../src/lease-handle.js';

describe('ackArguments (the id range the ack scripts read with one XPENDING)', () => {
  it('finds the lowest and highest entry id by stream order, not by text', () => {
    // Text order would put "…-10" before "…-9" and a 13-digit ms before a 12-digit one.
    const handles = ['1700000000000-9:1', '1700000000000-10:2', '999999999999-5:1', '1700000000001-0:1', '1700000000000-11:1'];
    expect(ackArguments(handles)).toEqual(['999999999999-5', '1700000000001-0', handles.join(' ')]);
  });

  it('takes a lone handle as both ends, and equal ids as one', () => {
    expect(ackArguments(['1-0:3'])).toEqual(['1-0', '1-0', '1-0:3']);
    expect(ackArguments(['5-5:1', '5-5:2'])).toEqual(['5-5', '5-5', '5-5:1 5-5:2']);
  });

  it('orders by sequence within one millisecond, whatever the arrival order', () => {
    const handles = ['42-3:1', '42-1:1', '42-20:1', '42-2:1'];
    expect(ackArguments(handles).slice(0, 2)).toEqual(['42-1', '42-20']);
  });
});
