import type { Variant } from '../variant.js';
import { batchVariants } from './batch.js';
import { bodyVariants } from './body.js';
import { closeVariants } from './close.js';
import { countVariants } from './count.js';
import { deadVariants } from './dead.js';
import { errorVariants } from './errors.js';
import { leaseVariants } from './lease.js';
import { limitVariants } from './limits.js';
import { queueVariants } from './queue.js';
import { receiveVariants } from './receive.js';
import { statsVariants } from './stats.js';

/** Every audited broken variant, in report order. */
export const ALL_VARIANTS: readonly Variant[] = [
  ...leaseVariants,
  ...countVariants,
  ...receiveVariants,
  ...bodyVariants,
  ...batchVariants,
  ...limitVariants,
  ...deadVariants,
  ...statsVariants,
  ...closeVariants,
  ...queueVariants,
  ...errorVariants,
];

/** The variant with `id`, or undefined. */
export function variantById(id: string): Variant | undefined {
  return ALL_VARIANTS.find((v) => v.id === id);
}
