// The conformance suite's worker-process hook: loaded in a child process, it builds an
// adapter on the same Azurite from BG_AZURE_CONNECTION_STRING.
import { azureQueueAdapter } from '@bg/azure-queue';

/** @param {string} _queue @returns {import('@bg/core').Adapter} */
export default function createWorkerAdapter(_queue) {
  const connectionString = process.env.BG_AZURE_CONNECTION_STRING;
  if (!connectionString) throw new Error('BG_AZURE_CONNECTION_STRING is not set');
  return azureQueueAdapter({ connectionString, pollIntervalMs: { min: 25, max: 200 } });
}
