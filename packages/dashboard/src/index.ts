export {
  type AccessDecision,
  type AccessFacts,
  accessDecision,
  isLoopbackAddress,
  isLoopbackHost,
} from './access.js';
export { lineChart, type Series } from './chart.js';
export { createDashboard, type Dashboard } from './create-dashboard.js';
export { SCAN_BUDGET, SCAN_PAGE_SIZE, type ScanPage, scanDeadLetters } from './dead-scan.js';
export { CONTENT_SECURITY_POLICY } from './http-io.js';
export { decodeCursor, encodeCursor, type ScanCursor } from './input.js';
export { type DashboardBackend, type DashboardOptions, MAX_SAMPLE_INTERVAL_MS, MIN_SAMPLE_INTERVAL_MS } from './options.js';
export type { Sample } from './poller.js';
