export {
  ADAPTERS_ENV,
  adapterPackageNames,
  adapterPackageSchemes,
  extractAdapterOptions,
  importAdapterPackage,
  loadAdapterPackages,
} from './adapter-packages.js';
export { backendUrl } from './args.js';
export { openBackend, useAdapterPackages, withBackend } from './backend.js';
export { collectStats, type QueueStatsRow } from './commands/stats.js';
export { selectDeadLetters } from './dead-filter.js';
export { formatDuration, parseDuration } from './duration.js';
export { enqueueRaw, type RawEnqueueOptions } from './enqueue-raw.js';
export { CliFailure, EXIT, type ExitCode, exitCodeOf, UsageError } from './exit-codes.js';
export { type CliIo, processIo } from './io.js';
export { canonicalJson, type JsonSchema, jobJsonSchema } from './json-schema.js';
export { type LoadedJobs, loadJobs } from './load-jobs.js';
export { type MoveOptions, type MoveResult, moveJobs } from './move-jobs.js';
export { type RunCliOptions, runCli } from './run-cli.js';
export {
  type CurrentJob,
  checkSnapshot,
  currentJob,
  emptySnapshot,
  parseSnapshot,
  type SchemaFinding,
  type SchemaSnapshot,
  SNAPSHOT_FORMAT,
  type SnapshotUpdate,
  updateSnapshot,
} from './schema-snapshot.js';
