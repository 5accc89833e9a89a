import { defineJob } from '@bg/core';

/** The scaling bench's no-op job (a ~200-byte payload, pass-through schema). */
export const benchJob = defineJob({
  type: 'bench.noop',
  schema: {
    '~standard': {
      version: 1,
      vendor: 'bench',
      types: undefined as unknown as { input: { n: number; data: string }; output: { n: number; data: string } },
      validate: (value: unknown) => ({ value: value as { n: number; data: string } }),
    },
  },
});

/** A ~200-byte payload. */
export const payload = (n: number): { n: number; data: string } => ({ n, data: 'x'.repeat(180 - String(n).length) });
