import { runSqsConformance } from './run-sqs-conformance.js';

// FIFO queues; standard queues are in conformance.test.ts.
await runSqsConformance(true);
