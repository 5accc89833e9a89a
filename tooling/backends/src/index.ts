export { errorTexts } from '@bg/conformance';
export {
  type Closable,
  type ConfigErrorRule,
  expectAdapterOrConfigError,
  expectConfigError,
  failureOf,
  parsedUrl,
} from './config-error.js';
export {
  type CallCounter,
  expectIdleCost,
  type IdleMeasure,
  idleScenario,
  median,
  ping,
  waitQuiet,
} from './idle-scenario.js';
export {
  type KillableServer,
  type KillableServerPlace,
  killableServer,
  type LocalServer,
  type ManagedServer,
  type ManagedServerSpec,
  managedServer,
  skipMissing,
} from './managed-server.js';
export { passThrough } from './pass-through-schema.js';
export { type ReceiveUntilOptions, receiveUntil } from './receive-until.js';
export { type RestartEndpoint, requestRestart, serveRestart } from './restart-endpoint.js';
export { expectNoSecret } from './secrets.js';
export {
  freePort,
  makeDataDir,
  missingBackend,
  removeDataDir,
  type ServerProcess,
  type SpawnServerOptions,
  spawnServer,
  waitUntil,
} from './server-process.js';
export {
  type BadUrl,
  hideSecrets,
  type UrlRejectionOptions,
  type UrlRejectionTest,
  urlRejectionTests,
} from './url-rejections.js';
