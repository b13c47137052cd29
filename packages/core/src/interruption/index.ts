// Interruption sources: what tells a worker its host is going away, about to sleep, or back.
export { asError, deliverNotice } from './deliver-notice.ts';
export { ImdsInterruptionSource, type ImdsInterruptionSourceOptions } from './imds-interruption-source.ts';
export { instanceActionPath, parseInstanceAction, parseRebalance, rebalancePath } from './imds-payloads.ts';
export { ImdsSession, type ImdsSessionOptions } from './imds-session.ts';
export { ManualInterruptionSource } from './manual-interruption-source.ts';
export { hibernationResumeMarker, ResumeDetector, type ResumeDetectorOptions } from './resume-detector.ts';
export {
  SignalInterruptionSource,
  type SignalInterruptionSourceOptions,
} from './signal-interruption-source.ts';
export {
  defaultSleepHookSocketPath,
  parseSleepHookLine,
  type SleepHookMessage,
  type SleepHookReply,
  type SleepKind,
} from './sleep-hook-protocol.ts';
export { SleepHookSource, type SleepHookSourceOptions } from './sleep-hook-source.ts';
