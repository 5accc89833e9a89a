export { errorTexts, expectNoSecret } from './secrets.js';
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
