import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BenchScenario, runBench, selectScenarios } from '../src/testing/bench-main.ts';
import type { ReportRow } from '../src/testing/bench-report.ts';

const row = (scenario: string, pass: boolean | undefined): ReportRow => ({
  scenario,
  core: '1',
  baseline: '1',
  ratio: '-',
  target: '-',
  pass,
});
const settings = { rounds: 1, log: () => {} };
type Settings = typeof settings;
const passing: BenchScenario<Settings> = async () => [row('passing figure', true)];
const missing: BenchScenario<Settings> = async () => [row('missed figure', false)];
const breaking: BenchScenario<Settings> = async () => {
  throw new Error('probe crashed');
};

describe('bench main', () => {
  const selectEnv = `SPOTJOBS_TEST_BENCH_ONLY_${randomUUID().slice(0, 8)}`;
  afterEach(() => vi.unstubAllEnvs());

  it('runs every scenario when the selection variable is unset, and exits 0 when targets are met', async () => {
    const outcome = await runBench({
      title: '@spotjobs/probe',
      scenarios: { a: passing, b: async () => [row('informational', undefined)] },
      selectEnv,
      settings: () => settings,
      describe: (s) => `${s.rounds} rounds`,
    });

    expect(outcome.exitCode).toBe(0);
    expect(outcome.rows.map((r) => r.scenario)).toEqual(['passing figure', 'informational']);
    expect(outcome.text).toMatch(/^\n@spotjobs\/probe bench: 1 rounds, \d+ s, Node v/);
    expect(outcome.text).toContain('passing figure');
  });

  it('runs only the listed scenarios, in the listed order, and exits 1 on a missed target', async () => {
    vi.stubEnv(selectEnv, ' b , a');
    const ran: string[] = [];
    const outcome = await runBench({
      title: '@spotjobs/probe',
      scenarios: {
        a: async (s) => {
          ran.push('a');
          return passing(s);
        },
        b: async (s) => {
          ran.push('b');
          return missing(s);
        },
        c: async (s) => {
          ran.push('c');
          return passing(s);
        },
      },
      selectEnv,
      settings: () => settings,
      describe: () => 'x',
    });

    expect(ran).toEqual(['b', 'a']);
    expect(outcome.exitCode).toBe(1);
  });

  it('refuses an unknown scenario name before building the settings', () => {
    vi.stubEnv(selectEnv, 'a,nope');
    expect(() => selectScenarios({ a: passing }, selectEnv)).toThrow(
      `${selectEnv}: unknown scenario(s) nope`,
    );
  });

  it('keeps the rows measured before a break, tears down, and exits 2', async () => {
    const tearDown = vi.fn(async () => {});
    const outcome = await runBench({
      title: '@spotjobs/probe',
      scenarios: { a: passing, b: breaking, c: passing },
      settings: () => settings,
      tearDown,
      describe: () => 'x',
    });

    expect(outcome.exitCode).toBe(2);
    expect((outcome.broken as Error).message).toBe('probe crashed');
    expect(outcome.rows).toHaveLength(1);
    expect(outcome.text).toContain('passing figure');
    expect(tearDown).toHaveBeenCalledTimes(1);
  });

  it('exits 2 when the settings themselves cannot be built', async () => {
    const outcome = await runBench<Settings>({
      title: '@spotjobs/probe',
      scenarios: { a: passing },
      settings: () => {
        throw new Error('SPOTJOBS_BENCH_ROUNDS must be a whole number >= 1, got x');
      },
      describe: () => 'unreachable',
    });

    expect(outcome.exitCode).toBe(2);
    expect(outcome.text).toContain('no settings');
  });
});
