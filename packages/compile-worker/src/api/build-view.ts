import type { BuildRecord } from '../build/build-record.ts';
import { cpvOf } from '../build/build-spec.ts';

/**
 * The JSON a client of the clean API sees for a build: its identity and inputs, its state with
 * times as ISO strings, attempts, the failure reason, the artifact's checksum and size, and the
 * links to fetch artifact and log (each answers a short-lived presigned URL). Internal fields
 * (claim tokens, dispatch marker, storage keys) stay out.
 *
 * @example
 * ```ts
 * jsonResponse(200, toBuildView(record, '/v1'));
 * ```
 */
export function toBuildView(record: BuildRecord, basePath: string): Record<string, unknown> {
  const self = `${basePath}/builds/${record.id}`;
  return {
    id: record.id,
    state: record.state,
    atom: cpvOf(record),
    category: record.category,
    package: record.name,
    version: record.version,
    use: record.use,
    profile: record.profile,
    generation: record.generation,
    attempts: record.attempts,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    workerId: record.workerId,
    error: record.error ? { message: record.error.message, at: iso(record.error.at) } : null,
    retryAfter: iso(record.retryAfter),
    artifact: record.artifact ? { sha256: record.artifact.sha256, size: record.artifact.size } : null,
    attemptsHistory: record.history.map((a) => ({
      generation: a.generation,
      attempt: a.attempt,
      workerId: a.workerId,
      startedAt: iso(a.startedAt),
      endedAt: iso(a.endedAt),
      outcome: a.outcome,
      reason: a.reason,
    })),
    links: {
      self,
      artifact: record.state === 'ready' ? `${self}/artifact` : null,
      log: record.log ? `${self}/log` : null,
    },
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
