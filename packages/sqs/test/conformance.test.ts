import { runSqsConformance } from './run-sqs-conformance.js';

// Standard queues; FIFO queues are in conformance-fifo.test.ts.
await runSqsConformance(false);
