export type { CaseContext, ConformanceCase } from './case.js';
export { REFUSED_SUFFIX } from './cases/batch-results.js';
export { AWKWARD_ATTRIBUTES, AWKWARD_BODIES } from './cases/delivery.js';
export { errorTexts } from './error-texts.js';
export { ipcAdapter, serveAdapterOverIpc } from './ipc-adapter.js';
export type {
  ConformanceOptions,
  ErrorScenarios,
  ExpectLike,
  Inspector,
  TestApi,
  Timing,
  UrlHook,
  WorkerProcessHook,
} from './options.js';
export { runCase, skipReason } from './run-case.js';
export { conformanceCases, runCaseById, runConformance } from './run-conformance.js';
export { DEFAULT_TIMING } from './timing.js';
export { withCapabilities } from './with-capabilities.js';
