import { startPubSubEmulator } from '@bg/backends/pubsub-emulator';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `127.0.0.1:<port>` of the private Pub/Sub emulator, or '' when it is not installed (laptop). */
    pubsubEndpoint: string;
    pubsubProjectId: string;
  }
}

/** Starts one private Pub/Sub emulator for the whole test run and stops it (by process group) afterwards. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulator = await startPubSubEmulator();
  project.provide('pubsubEndpoint', emulator?.endpoint ?? '');
  project.provide('pubsubProjectId', emulator?.projectId ?? 'bg-test');
  return async () => {
    await emulator?.stop();
  };
}
