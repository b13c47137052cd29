// A build as the clean API shows it (`GET /v1/builds/<id>`), for the CLI's unit tests: a queued
// build of app-misc/ranger-1.8.1 unless `overrides` say otherwise.
import type { BuildView } from '../../src/cli/api-schemas.ts';

export const FIXTURE_TIME = '2026-01-01T00:00:00.000Z';

export function buildViewFixture(id: string, overrides: Partial<BuildView> = {}): BuildView {
  return {
    id,
    state: 'queued',
    atom: 'app-misc/ranger-1.8.1',
    category: 'app-misc',
    package: 'ranger',
    version: '1.8.1',
    use: ['doc', '-test'],
    generation: 1,
    attempts: 0,
    createdAt: FIXTURE_TIME,
    updatedAt: FIXTURE_TIME,
    startedAt: null,
    finishedAt: null,
    workerId: null,
    error: null,
    retryAfter: null,
    artifact: null,
    attemptsHistory: [],
    links: { self: `/v1/builds/${id}`, artifact: null, log: null },
    ...overrides,
  };
}
