export {
  freePort,
  makeDataDir,
  missingBackend,
  removeDataDir,
  type ServerProcess,
  spawnServer,
  waitUntil,
} from './server-process.js';
