import { describe, expect, it } from 'vitest';
import { IdlePacer } from '../../src/adapter/idle-pacer.js';

/** How long `spaced` took, ms. */
async function timed(pacer: IdlePacer, leftMs: number, signal = new AbortController().signal): Promise<number> {
  const start = performance.now();
  await pacer.spaced(leftMs, signal);
  return performance.now() - start;
}

/** An empty pull, then the wait before the next one. */
async function emptyThenWait(pacer: IdlePacer, leftMs = 10_000): Promise<number> {
  pacer.empty();
  return timed(pacer, leftMs);
}

describe('IdlePacer (pauses between empty pulls of one queue)', () => {
  it('pulls at once before any empty pull; doubles the pause after each empty one up to its maximum; starts over once a pull is busy', async () => {
    const pacer = new IdlePacer({ firstMs: 10, maxMs: 40 });
    expect(await timed(pacer, 10_000), 'the first pull waits for nothing').toBeLessThan(5);
    const pauses: number[] = [];
    for (let i = 0; i < 4; i++) pauses.push(await emptyThenWait(pacer));
    // 10, 20, 40, 40 ms: timers fire no earlier than asked.
    const expected = [10, 20, 40, 40];
    expect(
      pauses.every((p, i) => p >= (expected[i] as number) - 2),
      `pauses ${pauses.map(Math.round)} against ${expected}`,
    ).toBe(true);
    expect(pauses[3], `the pause stops at the 40 ms maximum (pauses ${pauses.map(Math.round)})`).toBeLessThan(40 + 200);
    pacer.busy();
    expect(await timed(pacer, 10_000), 'after a busy pull the next pull waits for nothing').toBeLessThan(5);
    expect(await emptyThenWait(pacer), 'and the pause after the next empty pull is 10 ms again').toBeLessThan(10 + 200);
  });

  it('keeps pulls a pause apart across receives: time spent elsewhere since the empty pull counts', async () => {
    const pacer = new IdlePacer({ firstMs: 10, maxMs: 200 });
    for (let i = 0; i < 6; i++) await emptyThenWait(pacer, 0); // the pause grows to 200 ms
    pacer.empty();
    await new Promise((resolve) => setTimeout(resolve, 120));
    // A new receive 120 ms after the last empty pull waits the rest of the 200 ms, not 200 more.
    const rest = await timed(pacer, 10_000);
    expect(rest, `the wait of the next receive's first pull (${Math.round(rest)} ms)`).toBeGreaterThanOrEqual(60);
    expect(rest, `the wait of the next receive's first pull (${Math.round(rest)} ms)`).toBeLessThan(80 + 200);
  });

  it('never waits past what the receive has left', async () => {
    const pacer = new IdlePacer({ firstMs: 10, maxMs: 10_000 });
    for (let i = 0; i < 3; i++) await emptyThenWait(pacer, 0);
    expect(await emptyThenWait(pacer, 30), 'a wait with 30 ms left').toBeLessThan(30 + 200);
  });

  it('wake() ends every wait of the queue at once and resets the pause; abort ends one', async () => {
    const pacer = new IdlePacer({ firstMs: 10, maxMs: 60_000 });
    for (let i = 0; i < 14; i++) pacer.empty(); // pause grows to the maximum
    const start = performance.now();
    const waiting = [pacer.spaced(60_000, new AbortController().signal), pacer.spaced(60_000, new AbortController().signal)];
    setTimeout(() => pacer.wake(), 20);
    await Promise.all(waiting);
    expect(performance.now() - start, 'both waits ended by wake()').toBeLessThan(2_000);
    expect(await timed(pacer, 60_000), 'the next pull after wake() waits for nothing').toBeLessThan(5);
    expect(await emptyThenWait(pacer, 60_000), 'the pause after wake() is 10 ms again').toBeLessThan(10 + 200);
    for (let i = 0; i < 14; i++) pacer.empty();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(await timed(pacer, 60_000, controller.signal), 'an aborted wait').toBeLessThan(2_000);
  });
});

describe('IdlePacer.receive (one receive: looks until something comes, waitMs passes or the look gives up)', () => {
  it('returns the first look that brings messages, spacing the empty ones; and a waitMs 0 receive looks once, at once', async () => {
    const pacer = new IdlePacer({ firstMs: 10, maxMs: 40 });
    const looks: number[] = [];
    const replies: number[][] = [[], [], [7]];
    const got = await pacer.receive(10_000, new AbortController().signal, async () => {
      looks.push(performance.now());
      return replies.shift() ?? [];
    });
    expect(got, 'what the receive returned').toEqual([7]);
    expect(looks.length, 'looks made').toBe(3);
    expect((looks[1] as number) - (looks[0] as number), 'pause after the first empty look').toBeGreaterThanOrEqual(8);
    expect((looks[2] as number) - (looks[1] as number), 'pause after the second empty look').toBeGreaterThanOrEqual(18);
    let once = 0;
    const start = performance.now();
    expect(
      await pacer.receive(0, new AbortController().signal, async () => [++once]),
      'a waitMs 0 receive after a busy look',
    ).toEqual([1]);
    expect(performance.now() - start, 'it looked at once').toBeLessThan(5);
  });

  it('returns nothing when the look gives up, and nothing after waitMs of empty looks', async () => {
    const pacer = new IdlePacer({ firstMs: 10, maxMs: 20 });
    let looks = 0;
    expect(
      await pacer.receive(10_000, new AbortController().signal, async () => {
        looks++;
        return undefined;
      }),
      'a look that gave up',
    ).toEqual([]);
    expect(looks, 'looks before giving up').toBe(1);
    const start = performance.now();
    expect(await pacer.receive(100, new AbortController().signal, async () => []), 'empty looks for 100 ms').toEqual([]);
    expect(performance.now() - start, 'the receive ended with its wait').toBeLessThan(100 + 200);
  });
});
