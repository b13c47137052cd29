// `@spotjobs/core/testing`: what tests of spotjobs and of its users need.
export {
  awsTestClientConfig,
  type EmulatorEndpoints,
  type RunningEmulators,
  startEmulators,
} from './emulators.ts';
export { ManualClock } from './manual-clock.ts';
