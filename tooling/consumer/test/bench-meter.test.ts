// The bench kit's allocation measure (@bg/backends/bench): bytes allocated between collections,
// summed, so that a bench can report what a job allocates beside its GC share.
import { allocatedBytes, measure } from '@bg/backends/bench';
import { describe, expect, it } from 'vitest';

describe('allocatedBytes', () => {
  it('adds what the heap grew by before each collection and after the last one', () => {
    // 1 000 in use; grew to 5 000 (4 000 allocated), collected to 2 000; grew to 9 000 (7 000),
    // collected to 1 500; ended at 2 500 (1 000 more).
    const bytes = allocatedBytes(
      1_000,
      [
        { before: 5_000, after: 2_000 },
        { before: 9_000, after: 1_500 },
      ],
      2_500,
    );
    expect(bytes, 'allocatedBytes(1 000, [5 000→2 000, 9 000→1 500], 2 500)').toBe(4_000 + 7_000 + 1_000);
  });

  it('is the growth alone without collections, and never counts a shrinking heap as negative', () => {
    expect(allocatedBytes(1_000, [], 4_000), 'no collection: end − start').toBe(3_000);
    // A collection that found the heap smaller than the last reading (concurrent sweeping) adds nothing.
    expect(allocatedBytes(3_000, [{ before: 2_500, after: 1_000 }], 800), 'shrinking readings').toBe(0);
  });
});

describe('measure', () => {
  it('reports the bytes a phase allocated: 10 000 objects of ~100 bytes come to at least 1 MB', async () => {
    const kept: { text: string }[] = [];
    const { sample } = await measure(async () => {
      for (let i = 0; i < 10_000; i++) kept.push({ text: `${'x'.repeat(60)}${i}` });
    });
    expect(kept).toHaveLength(10_000);
    expect(sample.allocatedBytes, 'measure() of a phase allocating ~1 MB: sample.allocatedBytes').toBeGreaterThan(1_000_000);
    // And not wildly more: the phase allocates nothing else of size.
    expect(sample.allocatedBytes, 'sample.allocatedBytes stays within 20 MB').toBeLessThan(20_000_000);
  });
});
