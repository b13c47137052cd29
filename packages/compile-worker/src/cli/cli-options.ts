import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseBuildSubmission } from '../api/build-submission.ts';
import { BUILD_ID_PATTERN } from '../build/build-identity.ts';
import type { BuildSpec } from '../build/build-spec.ts';
import { InvalidRequestError } from '../errors.ts';
import { normaliseUse } from '../gentoo/use-flags.ts';
import { CliUsageError } from './cli-errors.ts';

/** Settings every command shares. */
export interface CommonOptions {
  /** The API's base URL without a trailing slash (a stage path such as `/LATEST` kept). */
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** Where the key came from: a key on the command line is visible in `ps` and earns a warning. */
  readonly apiKeySource: 'env' | 'argv' | undefined;
  /** One JSON object on stdout as the last line. */
  readonly json: boolean;
  /** No progress lines; the final line and errors only. */
  readonly quiet: boolean;
}

/** `spotjobs-compile request <atom> [--use …]`, compiled: defaults filled, units in ms, input checked. */
export interface RequestCommand extends CommonOptions {
  readonly command: 'request';
  /** The body sent to `POST /v1/builds`, exactly as validated. */
  readonly body: { readonly atom: string; readonly use: string };
  /** The build as the server's grammar reads it (normalised USE). */
  readonly spec: BuildSpec;
  /** Absolute directory the artifact is written to. */
  readonly outputDir: string;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly download: boolean;
}

/** `spotjobs-compile status <build-id>`. */
export interface StatusCommand extends CommonOptions {
  readonly command: 'status';
  readonly buildId: string;
}

export type CliCommand = RequestCommand | StatusCommand | { readonly command: 'help' };

/** What the process's environment may set (the composition root passes `process.env`). */
export interface CliEnvironment {
  readonly SPOTJOBS_COMPILE_URL?: string | undefined;
  readonly SPOTJOBS_COMPILE_API_KEY?: string | undefined;
}

export const CLI_DEFAULTS = {
  url: 'http://127.0.0.1:8080',
  pollIntervalSeconds: 2,
  minPollIntervalSeconds: 0.2,
  timeoutSeconds: 3 * 3600,
} as const;

export const CLI_USAGE = `Usage:
  spotjobs-compile request <category/package-version> [--use "<flags>"] [options]
  spotjobs-compile status <build-id> [options]

Submits a build to the compile farm, waits for it, downloads the binary package and checks
its sha256 and size.

Options:
  --use <flags>            USE flags, e.g. "-test doc" (may be repeated; the last setting wins)
  --url <url>              API base URL (env SPOTJOBS_COMPILE_URL, default ${CLI_DEFAULTS.url})
  --api-key <key>          API key (prefer env SPOTJOBS_COMPILE_API_KEY: a key here shows in ps)
  --output <dir>           where the package is written (default: the current directory)
  --poll-interval <s>      seconds between status checks (default ${CLI_DEFAULTS.pollIntervalSeconds}, min ${CLI_DEFAULTS.minPollIntervalSeconds})
  --timeout <s>            give up waiting after this many seconds (default ${CLI_DEFAULTS.timeoutSeconds})
  --no-download            stop once the build is ready; print the artifact's link
  --json                   end with one JSON line on stdout
  -q, --quiet              no progress lines
  -h, --help               this text

Exit codes: 0 ready and verified, 1 build failed, 2 usage or invalid input, 3 server or
network error (a refused API key included), 4 sha256/size mismatch, 5 timed out,
130 interrupted.
`;

const OPTIONS = {
  use: { type: 'string', multiple: true },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  output: { type: 'string' },
  'poll-interval': { type: 'string' },
  timeout: { type: 'string' },
  'no-download': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

// Options that take a value: written `--use -test`, the value starts with a dash, which parseArgs
// refuses as ambiguous. USE values start with a dash all the time, and POSIX utilities take the
// next argument as the option-argument whatever it looks like, so `--name value` is joined into
// `--name=value` before parsing.
const VALUE_OPTIONS = new Set(
  Object.entries(OPTIONS)
    .filter(([, o]) => o.type === 'string')
    .map(([name]) => `--${name}`),
);

// Header-safe (visible ASCII); the server's own key grammar decides the rest.
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * Parses `argv` (without `node` and the script) and the environment into a command, checking
 * everything that can be checked without I/O: options, URL, numbers, and the atom and USE
 * through the server's own request parser (same grammar, same messages). Throws `CliUsageError`
 * listing every problem.
 *
 * @example
 * ```ts
 * const cmd = parseCli(['request', 'app-misc/ranger-1.8.1', '--use', '-test doc'], process.env, process.cwd());
 * cmd.command === 'request' && cmd.spec.use; // ['doc', '-test']
 * ```
 */
export function parseCli(argv: readonly string[], env: CliEnvironment, cwd: string): CliCommand {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: joinOptionValues(argv),
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new CliUsageError([err instanceof Error ? err.message : String(err)], { cause: err });
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { command: 'help' };
  const [command, ...operands] = positionals;
  const problems: string[] = [];
  const common = commonOptions(values, env, problems);

  if (command === 'status') {
    const buildId = single(operands, 'status <build-id>', problems);
    if (buildId !== undefined && !BUILD_ID_PATTERN.test(buildId))
      problems.push('build id: must be 64 lower-case hex characters');
    for (const name of ['use', 'output', 'poll-interval', 'timeout', 'no-download'] as const)
      if (values[name] !== undefined) problems.push(`--${name} does not apply to status`);
    if (problems.length > 0 || buildId === undefined) throw new CliUsageError(problems);
    return { command: 'status', buildId, ...common };
  }
  if (command !== 'request')
    throw new CliUsageError([`unknown command ${JSON.stringify(command)} (request, status)`]);

  const atom = single(operands, 'request <category/package-version>', problems);
  const pollSeconds = seconds(
    values['poll-interval'],
    '--poll-interval',
    CLI_DEFAULTS.pollIntervalSeconds,
    problems,
  );
  if (pollSeconds < CLI_DEFAULTS.minPollIntervalSeconds)
    problems.push(`--poll-interval must be at least ${CLI_DEFAULTS.minPollIntervalSeconds} seconds`);
  const timeoutSeconds = seconds(values.timeout, '--timeout', CLI_DEFAULTS.timeoutSeconds, problems);
  if (common.apiKey === undefined)
    problems.push('an API key is needed to submit a build: set SPOTJOBS_COMPILE_API_KEY');
  const body = { atom: atom ?? '', use: (values.use ?? []).join(' ') };
  let spec: BuildSpec | undefined;
  if (atom !== undefined) {
    try {
      // The server's own parser of this very body: the same grammar and the same messages, so
      // whatever it would refuse is refused here and never sent.
      spec = parseBuildSubmission(JSON.stringify(body));
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      for (const p of err.problems) problems.push(`${p.field}: ${p.reason}`);
      // The server stops at a bad atom; here USE is checked too, so one run lists everything.
      const use = normaliseUse(body.use);
      if (!use.ok && !err.problems.some((p) => p.field === 'use'))
        for (const reason of use.problems) problems.push(`use: ${reason}`);
    }
  }
  if (problems.length > 0 || spec === undefined) throw new CliUsageError(problems);
  return {
    command: 'request',
    ...common,
    body,
    spec,
    outputDir: resolve(cwd, values.output ?? '.'),
    pollIntervalMs: Math.round(pollSeconds * 1000),
    timeoutMs: Math.round(timeoutSeconds * 1000),
    download: !values['no-download'],
  };
}

/** `--name value` → `--name=value` for options that take a value; nothing after `--` is touched. */
export function joinOptionValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (VALUE_OPTIONS.has(arg) && next !== undefined) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function commonOptions(
  values: {
    url?: string | undefined;
    'api-key'?: string | undefined;
    json?: boolean | undefined;
    quiet?: boolean | undefined;
  },
  env: CliEnvironment,
  problems: string[],
): CommonOptions {
  const fromArgv = values['api-key'];
  const fromEnv = env.SPOTJOBS_COMPILE_API_KEY?.trim() || undefined;
  const apiKey = fromArgv ?? fromEnv;
  const apiKeySource = fromArgv !== undefined ? 'argv' : fromEnv !== undefined ? 'env' : undefined;
  if (apiKey !== undefined && !HEADER_SAFE.test(apiKey))
    problems.push(
      `the API key (${apiKeySource === 'argv' ? '--api-key' : 'SPOTJOBS_COMPILE_API_KEY'}) holds spaces, control or non-ASCII characters`,
    );
  const urlSource = values.url !== undefined ? '--url' : 'SPOTJOBS_COMPILE_URL';
  const baseUrl = checkBaseUrl(
    values.url ?? (env.SPOTJOBS_COMPILE_URL?.trim() || CLI_DEFAULTS.url),
    urlSource,
    problems,
  );
  return { baseUrl, apiKey, apiKeySource, json: values.json ?? false, quiet: values.quiet ?? false };
}

function checkBaseUrl(text: string, source: string, problems: string[]): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${source} is not a URL (e.g. ${CLI_DEFAULTS.url})`);
    return CLI_DEFAULTS.url;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    problems.push(`${source} must be http:// or https://`);
  // fetch refuses credentials in URLs, and they would end up in messages: keys go in the key option.
  if (url.username !== '' || url.password !== '') problems.push(`${source} must not hold credentials`);
  if (url.search !== '' || url.hash !== '') problems.push(`${source} must not have a query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function single(operands: readonly string[], usage: string, problems: string[]): string | undefined {
  if (operands.length !== 1) {
    problems.push(
      operands.length === 0
        ? `missing operand: ${usage}`
        : `too many operands (${operands.length}): ${usage}`,
    );
    return undefined;
  }
  return operands[0];
}

function seconds(text: string | undefined, name: string, fallback: number, problems: string[]): number {
  if (text === undefined) return fallback;
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    problems.push(`${name} must be a positive number of seconds`);
    return fallback;
  }
  return value;
}
