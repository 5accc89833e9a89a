export { ATTR, EVENT } from './attributes.js';
export { OTHER_ERROR_TYPE } from './error-type.js';
export { type BgOtel, INSTRUMENTATION_SCOPE, instrument, type OtelOptions } from './instrument.js';
export { withTraceIds } from './logger.js';
export { MESSAGING_SYSTEMS, messagingSystem } from './messaging-system.js';
export type { BgInstruments } from './metrics.js';
export { fromTraceCarrier, toTraceCarrier } from './trace-context.js';
export { OTHER_JOB_TYPE, type ProcessParent, UNSETTLED_RUN } from './worker-hooks.js';
