import type { ConformanceCase } from '../case.js';
import { deadLetterCases } from './dead-letters.js';
import { delayCases } from './delay.js';
import { deliveryCases } from './delivery.js';
import { leaseCases } from './lease.js';
import { limitCases } from './limits.js';
import { optionalCases } from './optional.js';
import { releaseCases } from './release.js';
import { workerCases } from './worker.js';

/** Every adapter-level case, in report order. */
export const adapterCases: readonly ConformanceCase[] = [
  ...deliveryCases,
  ...leaseCases,
  ...releaseCases,
  ...deadLetterCases,
  ...delayCases,
  ...limitCases,
  ...optionalCases,
];

/** Every case: the adapter level, then the worker level. */
export const allCases: readonly ConformanceCase[] = [...adapterCases, ...workerCases];
