import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type EmulatorEndpoints, startEmulators } from '../packages/core/src/testing/emulators.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: EmulatorEndpoints;
  }
}

// One set of emulators for the whole integration run; tests isolate themselves with
// unique queue, bucket and table names, so files can run in parallel.
export default async function setup(project: TestProject) {
  const emulators = await startEmulators();
  project.provide('emulators', emulators.endpoints);
  return () => emulators.stop();
}
