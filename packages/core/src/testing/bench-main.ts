// The entry every package's `pnpm bench` shares: pick the scenarios, run them in order, print
// one verdict table, exit 0 when every target is met, 1 when one is missed, 2 when the bench
// itself broke (the rows measured before the break are still printed).
import { type ReportRow, renderTable } from './bench-report.ts';

/** What every bench's settings carry; a package's settings add their own sizes. */
export interface BenchSettings {
  /** Recorded rounds per scenario. */
  readonly rounds: number;
  /** Where progress lines go (stderr, so stdout holds only the table). */
  readonly log: (line: string) => void;
}

/** One named measurement: answers its rows of the verdict table. */
export type BenchScenario<S> = (settings: S) => Promise<readonly ReportRow[]>;

export interface BenchMainOptions<S> {
  /** The package, first word of the header: `@spotjobs/core`. */
  readonly title: string;
  /** Run in this order; the names are what `selectEnv` lists. */
  readonly scenarios: Readonly<Record<string, BenchScenario<S>>>;
  /**
   * A variable holding a comma list of scenario names to run (all when unset). Unknown names
   * throw before anything starts.
   */
  readonly selectEnv?: string;
  /** Builds the settings (may start emulators); runs after the names are checked. */
  readonly settings: () => S | Promise<S>;
  /** Runs after the scenarios, broken or not (stops what `settings` started). */
  readonly tearDown?: () => Promise<void>;
  /** The header between the title and the run time: rounds, what the columns mean. */
  readonly describe: (settings: S) => string;
}

/** What a bench run came to; `runBenchMain` prints it and exits with `exitCode`. */
export interface BenchOutcome {
  readonly rows: readonly ReportRow[];
  /** The header and the table, as printed on stdout. */
  readonly text: string;
  /** What broke the bench, if anything. */
  readonly broken: unknown;
  /** 0 every target met, 1 one missed, 2 the bench broke. */
  readonly exitCode: 0 | 1 | 2;
}

/** Writes a progress line to stderr: the `log` of every bench's settings. */
export function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * The names `selectEnv` picks, in the order given; all of `scenarios` when unset.
 *
 * @example
 * ```ts
 * selectScenarios({ noop, io }, 'SPOTJOBS_BENCH_ONLY'); // ['io'] with SPOTJOBS_BENCH_ONLY=io
 * ```
 */
export function selectScenarios(scenarios: Readonly<Record<string, unknown>>, selectEnv?: string): string[] {
  const raw = selectEnv === undefined ? undefined : process.env[selectEnv];
  if (raw === undefined) return Object.keys(scenarios);
  const names = raw.split(',').map((s) => s.trim());
  const unknown = names.filter((name) => !Object.hasOwn(scenarios, name));
  if (unknown.length > 0) throw new Error(`${selectEnv}: unknown scenario(s) ${unknown.join(', ')}`);
  return names;
}

/**
 * Runs the selected scenarios and answers the verdict without printing or exiting (what
 * `runBenchMain` does around it).
 *
 * @example
 * ```ts
 * const outcome = await runBench({ title: '@spotjobs/x', scenarios: { one }, settings: () => s, describe: () => '1 round' });
 * ```
 */
export async function runBench<S>(options: BenchMainOptions<S>): Promise<BenchOutcome> {
  const names = selectScenarios(options.scenarios, options.selectEnv);
  const started = performance.now();
  const rows: ReportRow[] = [];
  let settings: S | undefined;
  let broken: unknown;
  try {
    settings = await options.settings();
    for (const name of names) rows.push(...(await (options.scenarios[name] as BenchScenario<S>)(settings)));
  } catch (error) {
    broken = error ?? new Error('the bench threw undefined');
  } finally {
    await options.tearDown?.();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const about = settings === undefined ? 'no settings' : options.describe(settings);
  const text = `\n${options.title} bench: ${about}, ${seconds} s, Node ${process.version}\n\n${renderTable(rows)}\n\n`;
  const exitCode = broken !== undefined ? 2 : rows.every((row) => row.pass !== false) ? 0 : 1;
  return { rows, text, broken, exitCode };
}

/**
 * A bench's whole `run.ts`: runs the scenarios, prints the table on stdout (and what broke on
 * stderr), then exits 0, 1 (a target missed) or 2 (the bench broke).
 *
 * @example
 * ```ts
 * await runBenchMain({
 *   title: '@spotjobs/core',
 *   scenarios: { noop: noopScenario, io: ioScenario },
 *   selectEnv: 'SPOTJOBS_BENCH_ONLY',
 *   settings: () => ({ rounds: positiveIntFromEnv('SPOTJOBS_BENCH_ROUNDS', 5), log: logToStderr }),
 *   describe: (s) => `${s.rounds} rounds, medians [min–max]`,
 * });
 * ```
 */
export async function runBenchMain<S>(options: BenchMainOptions<S>): Promise<never> {
  const outcome = await runBench(options);
  process.stdout.write(outcome.text);
  if (outcome.broken !== undefined) console.error('bench broke:', outcome.broken);
  process.exit(outcome.exitCode);
}
