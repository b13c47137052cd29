import { BuildEngineError, type BuildEngineStage } from './build-engine-error.ts';

/** The HTTP status of a failed dockerode call (`404` no such container or image...), if any. */
export function dockerStatusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err && typeof err.statusCode === 'number'
    ? err.statusCode
    : undefined;
}

/** Wraps an engine failure with what was being done, keeping the engine's message and the cause. */
export function engineError(stage: BuildEngineStage, what: string, cause: unknown): BuildEngineError {
  if (cause instanceof BuildEngineError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new BuildEngineError(stage, `${what}: ${detail}`, { cause });
}

/** A `.catch` handler that swallows the given statuses (already stopped, already gone) and rethrows the rest. */
export function ignoreDockerStatus(...codes: number[]): (err: unknown) => void {
  return (err) => {
    if (!codes.includes(dockerStatusCode(err) ?? -1)) throw err;
  };
}
