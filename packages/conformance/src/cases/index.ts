import type { ConformanceCase } from '../case.js';
import { attributeCases } from './attributes.js';
import { batchResultCases } from './batch-results.js';
import { bodyCases } from './bodies.js';
import { deadLetterConcurrencyCases } from './dead-letter-concurrency.js';
import { deadLetterRuleCases } from './dead-letter-rules.js';
import { deadLetterCases } from './dead-letters.js';
import { delayCases } from './delay.js';
import { delayLimitCases } from './delay-limits.js';
import { deliveryCases } from './delivery.js';
import { fromUrlCases } from './from-url.js';
import { handleCases } from './handles.js';
import { honestQueueCases } from './honest-queues.js';
import { leaseCases } from './lease.js';
import { leaseOwnershipCases } from './lease-ownership.js';
import { lifecycleCases } from './lifecycle.js';
import { limitCases } from './limits.js';
import { optionalCases } from './optional.js';
import { processCases } from './processes.js';
import { receiveCases } from './receive.js';
import { releaseCases } from './release.js';
import { resourceCases } from './resources.js';
import { statsCases } from './stats.js';
import { workerCases } from './worker.js';
import { reliabilityCases } from './worker-rel.js';

/** Every adapter-level case, in report order. */
export const adapterCases: readonly ConformanceCase[] = [
  ...deliveryCases,
  ...bodyCases,
  ...attributeCases,
  ...batchResultCases,
  ...processCases,
  ...receiveCases,
  ...leaseCases,
  ...leaseOwnershipCases,
  ...handleCases,
  ...releaseCases,
  ...deadLetterCases,
  ...deadLetterRuleCases,
  ...deadLetterConcurrencyCases,
  ...delayCases,
  ...statsCases,
  ...limitCases,
  ...delayLimitCases,
  ...lifecycleCases,
  ...resourceCases,
  ...optionalCases,
  ...honestQueueCases,
  ...fromUrlCases,
];

/** Every case: the adapter level, then the worker level. */
export const allCases: readonly ConformanceCase[] = [...adapterCases, ...workerCases, ...reliabilityCases];
