import { describe, expect, it } from 'vitest';
import { IdlePacer } from '../src/idle-pacer.js';

/** How long `sleep` took, ms. */
async function timed(pacer: IdlePacer, leftMs: number, signal = new AbortController().signal): Promise<number> {
  const start = performance.now();
  await pacer.sleep(leftMs, signal);
  return performance.now() - start;
}

describe('IdlePacer (pauses between empty pulls of one queue)', () => {
  it('doubles the pause across sleeps up to its maximum, and starts over once a pull is busy', async () => {
    const pacer = new IdlePacer(40);
    const pauses: number[] = [];
    for (let i = 0; i < 4; i++) pauses.push(await timed(pacer, 10_000));
    // 10, 20, 40, 40 ms: timers fire no earlier than asked.
    const expected = [10, 20, 40, 40];
    expect(
      pauses.every((p, i) => p >= (expected[i] as number) - 2),
      `pauses ${pauses.map(Math.round)} against ${expected}`,
    ).toBe(true);
    expect(pauses[3], `the pause stops at the 40 ms maximum (pauses ${pauses.map(Math.round)})`).toBeLessThan(40 + 200);
    pacer.busy();
    expect(await timed(pacer, 10_000), 'after a busy pull the pause is 10 ms again').toBeLessThan(10 + 200);
  });

  it('never sleeps past what the receive has left', async () => {
    const pacer = new IdlePacer(10_000);
    for (let i = 0; i < 3; i++) await timed(pacer, 10_000);
    expect(await timed(pacer, 30), 'a sleep with 30 ms left').toBeLessThan(30 + 200);
  });

  it('wake() ends every sleep of the queue at once and resets the pause; abort ends one', async () => {
    const pacer = new IdlePacer(60_000);
    for (let i = 0; i < 12; i++) await pacer.sleep(0, new AbortController().signal); // pause grows to the maximum
    const start = performance.now();
    const sleeping = [pacer.sleep(60_000, new AbortController().signal), pacer.sleep(60_000, new AbortController().signal)];
    setTimeout(() => pacer.wake(), 20);
    await Promise.all(sleeping);
    expect(performance.now() - start, 'both sleeps ended by wake()').toBeLessThan(2_000);
    expect(await timed(pacer, 60_000), 'the pause after wake() is 10 ms again').toBeLessThan(10 + 200);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(await timed(pacer, 60_000, controller.signal), 'an aborted sleep').toBeLessThan(2_000);
  });
});
