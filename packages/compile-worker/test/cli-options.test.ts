// Argument and environment parsing of spotjobs-compile: defaults, units, every problem listed,
// and the atom and USE judged by the server's own request parser.
import { describe, expect, it } from 'vitest';
import { CliUsageError } from '../src/cli/cli-errors.ts';
import { joinOptionValues, parseCli, type RequestCommand } from '../src/cli/cli-options.ts';

const KEY = 'cli-test-key-0123456789';
const env = { SPOTJOBS_COMPILE_API_KEY: KEY };

function request(argv: string[], environment: Record<string, string> = env): RequestCommand {
  const command = parseCli(argv, environment, '/scratch/dir');
  if (command.command !== 'request') throw new Error(`parsed as ${command.command}`);
  return command;
}

function problemsOf(argv: string[], environment: Record<string, string> = env): readonly string[] {
  try {
    parseCli(argv, environment, '/scratch/dir');
  } catch (err) {
    if (err instanceof CliUsageError) return err.problems;
    throw err;
  }
  throw new Error('no usage error');
}

describe('parseCli', () => {
  it('fills the defaults and normalises USE as the server does', () => {
    const command = request(['request', 'app-misc/ranger-1.8.1', '--use', '-test doc']);

    expect(command).toMatchObject({
      baseUrl: 'http://127.0.0.1:8080',
      apiKey: KEY,
      apiKeySource: 'env',
      body: { atom: 'app-misc/ranger-1.8.1', use: '-test doc' },
      spec: { category: 'app-misc', name: 'ranger', version: '1.8.1', use: ['doc', '-test'] },
      outputDir: '/scratch/dir',
      pollIntervalMs: 2000,
      timeoutMs: 10_800_000,
      download: true,
      json: false,
      quiet: false,
    });
  });

  it('takes every option, a dash-led USE value as a separate argument, and repeated --use in order', () => {
    const command = request([
      'request',
      '=app-misc/ranger-1.8.1-r1',
      '--use',
      '-gtk',
      '--use=gtk -X',
      '--url',
      'https://api.example.test/LATEST/',
      '--api-key',
      'argv-key-0123456789abc',
      '--output',
      'pkgs',
      '--poll-interval',
      '0.2',
      '--timeout',
      '90.5',
      '--no-download',
      '--json',
      '-q',
    ]);

    expect(command).toMatchObject({
      baseUrl: 'https://api.example.test/LATEST',
      apiKey: 'argv-key-0123456789abc',
      apiKeySource: 'argv',
      body: { atom: '=app-misc/ranger-1.8.1-r1', use: '-gtk gtk -X' },
      spec: { version: '1.8.1-r1', use: ['-X', 'gtk'] },
      outputDir: '/scratch/dir/pkgs',
      pollIntervalMs: 200,
      timeoutMs: 90_500,
      download: false,
      json: true,
      quiet: true,
    });
  });

  it('reads the URL from the environment, the command line winning', () => {
    const fromEnv = request(['request', 'a/b-1'], { ...env, SPOTJOBS_COMPILE_URL: 'http://10.0.0.5:9000' });
    const fromArgv = request(['request', 'a/b-1', '--url', 'http://[::1]:1234'], {
      ...env,
      SPOTJOBS_COMPILE_URL: 'http://10.0.0.5:9000',
    });

    expect(fromEnv.baseUrl).toBe('http://10.0.0.5:9000');
    expect(fromArgv.baseUrl).toBe('http://[::1]:1234');
  });

  it('lists every problem at once, the atom and USE in the server’s words', () => {
    expect(
      problemsOf([
        'request',
        'app-misc/ranger-1.8.1;id',
        '--use',
        '$(id) ok',
        '--poll-interval',
        '0.1',
        '--timeout',
        'soon',
      ]),
    ).toEqual([
      '--poll-interval must be at least 0.2 seconds',
      '--timeout must be a positive number of seconds',
      'atom: "1.8.1;id" contains ";" (a version has only 0-9 a-z . _ -)',
      'use: "$(id)" contains "$" (a USE flag has only A-Z a-z 0-9 + _ @ -)',
    ]);
  });

  it.each([
    [['request'], 'missing operand: request <category/package-version>'],
    [['request', 'a/b-1', 'c/d-2'], 'too many operands (2): request <category/package-version>'],
    [['build', 'a/b-1'], 'unknown command "build" (request, status)'],
    [['request', 'a/b-1', '--url', 'ftp://host'], '--url must be http:// or https://'],
    [['request', 'a/b-1', '--url', 'http://user:pw@host'], '--url must not hold credentials'],
    [['request', 'a/b-1', '--url', 'not a url'], '--url is not a URL (e.g. http://127.0.0.1:8080)'],
    [
      ['request', 'a/b-1', '--api-key', 'has space 0123456789'],
      'the API key (--api-key) holds spaces, control or non-ASCII characters',
    ],
    [['request', 'a/b-1', '--frobnicate'], "Unknown option '--frobnicate'"],
    [['status', 'abc'], 'build id: must be 64 lower-case hex characters'],
    [['status', 'a'.repeat(64), '--use', 'x'], '--use does not apply to status'],
  ])('refuses %j', (argv, problem) => {
    expect(problemsOf(argv).join('\n')).toContain(problem);
  });

  it('needs an API key to submit, never echoing a bad one', () => {
    expect(problemsOf(['request', 'a/b-1'], {})).toEqual([
      'an API key is needed to submit a build: set SPOTJOBS_COMPILE_API_KEY',
    ]);
    const bad = 'secret\u0007key-0123456789';
    expect(problemsOf(['request', 'a/b-1'], { SPOTJOBS_COMPILE_API_KEY: bad }).join()).not.toContain(
      'secret',
    );
  });

  it('reads status without a key, and help without anything', () => {
    const id = 'f'.repeat(64);
    expect(parseCli(['status', id], {}, '/')).toMatchObject({
      command: 'status',
      buildId: id,
      apiKey: undefined,
    });
    expect(parseCli([], {}, '/')).toEqual({ command: 'help' });
    expect(parseCli(['request', '--help'], {}, '/')).toEqual({ command: 'help' });
  });
});

describe('joinOptionValues', () => {
  it('joins value options with the next argument, whatever it looks like, and stops at --', () => {
    expect(joinOptionValues(['--use', '-a', '--json', '--url', '--x', '--', '--use', '-b', '--use'])).toEqual(
      ['--use=-a', '--json', '--url=--x', '--', '--use', '-b', '--use'],
    );
  });
});
