// What the CLI shows a person: progress lines (plain and on a terminal), text from the server
// made harmless, sizes and times, the artifact's file name, and how errors and outcomes print.
import { describe, expect, it } from 'vitest';
import type { BuildView } from '../src/cli/api-schemas.ts';
import { artifactFileName } from '../src/cli/artifact-file-name.ts';
import { CliUsageError, CompileApiError, WaitTimeoutError } from '../src/cli/cli-errors.ts';
import { reportError, reportRequestOutcome } from '../src/cli/cli-output.ts';
import { ProgressReporter } from '../src/cli/progress-reporter.ts';
import { formatBytes, formatDuration, printable } from '../src/cli/terminal-text.ts';
import { buildViewFixture } from './support/build-view-fixture.ts';

const ID = 'cd'.repeat(32);

function build(overrides: Partial<BuildView> = {}): BuildView {
  return buildViewFixture(ID, overrides);
}

function sink(isTTY = false) {
  const out = { text: '', isTTY, write: (s: string) => (out.text += s) };
  return out;
}

function reporter(options: { isTTY?: boolean; quiet?: boolean } = {}) {
  const stream = sink(options.isTTY);
  let now = 0;
  const progress = new ProgressReporter({
    stream,
    quiet: options.quiet ?? false,
    monotonic: () => now,
    refreshMs: 60_000,
  });
  return { stream, progress, tick: (ms: number) => (now += ms) };
}

describe('ProgressReporter', () => {
  it('prints one plain line per change of state, attempt or worker, with the elapsed time', () => {
    const { stream, progress, tick } = reporter();

    progress.submitted(build(), true);
    progress.observe(build());
    tick(1500);
    progress.observe(build());
    progress.observe(build({ state: 'building', attempts: 1, workerId: 'i-0abc' }));
    tick(65_000);
    progress.observe(build({ state: 'building', attempts: 1, workerId: 'i-0abc' }));
    progress.observe(
      build({
        state: 'queued',
        attempts: 1,
        attemptsHistory: [
          { attempt: 1, workerId: 'i-0abc', outcome: 'released', reason: 'spot interruption' },
        ],
      }),
    );
    progress.observe(build({ state: 'building', attempts: 2, workerId: 'i-0def' }));
    progress.observe(
      build({ state: 'ready', attempts: 2, artifact: { sha256: 'e'.repeat(64), size: 1_300_000 } }),
    );

    expect(stream.text).toBe(
      [
        `app-misc/ranger-1.8.1 USE="doc -test": build ${ID} (new build)`,
        '[0.0s] queued',
        '[1.5s] building (attempt 1, worker i-0abc)',
        '[1m06s] queued (attempt 1 released: spot interruption)',
        '[1m06s] building (attempt 2, worker i-0def)',
        '[1m06s] ready (sha256 eeeeeeeeeeee…, 1.2 MiB)',
        '',
      ].join('\n'),
    );
  });

  it('shows nothing but warnings when quiet', () => {
    const { stream, progress } = reporter({ quiet: true });

    progress.observe(build());
    progress.info('served from the cache');
    progress.warn('--api-key is visible');

    expect(stream.text).toBe('warning: --api-key is visible\n');
  });

  it('keeps a live status line on a terminal, drawn under the plain lines and cleared at the end', () => {
    const { stream, progress } = reporter({ isTTY: true });

    progress.observe(build());
    progress.observe(build({ state: 'building', attempts: 1, workerId: 'w' }));
    progress.downloading('ranger-1.8.1.tbz2', 2048);
    progress.downloaded(1024);
    progress.info('x');
    progress.finish();

    expect(stream.text).toContain('[0.0s] queued\n');
    const CLEAR = '\r\u001b[2K';
    expect(stream.text).toContain(`${CLEAR}⠋ queued 0.0s`);
    expect(stream.text).toContain(' downloading ranger-1.8.1.tbz2 1.0 KiB / 2.0 KiB (50%) 0.0s');
    expect(stream.text.endsWith(CLEAR)).toBe(true);
  });

  it('shows a worker id or reason from the server as text, never as terminal control', () => {
    const { stream, progress } = reporter();

    progress.observe(build({ state: 'building', attempts: 1, workerId: 'evil\u001b]0;title\u0007\u202eid' }));

    expect(stream.text).toContain('worker evil\\x1b]0;title\\x07\\u202eid)');
    expect(stream.text).not.toContain('\u001b');
  });
});

describe('terminal text', () => {
  it('escapes controls but keeps newlines and tabs', () => {
    expect(printable('a\tb\nc\u0000d\u009be\u007f')).toBe('a\tb\nc\\x00d\\x9be\\x7f');
  });

  it.each([
    [0, '0.0s'],
    [12_345, '12.3s'],
    [245_000, '4m05s'],
    [7_380_000, '2h03m'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([
    [512, '512 B'],
    [12_390, '12.1 KiB'],
    [3_565_158, '3.4 MiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('artifactFileName', () => {
  const ranger = { package: 'ranger', version: '1.8.1-r1' };

  it.each([
    ['http://h/blobs/compile/packages/0b7c-app-misc%40ranger-1.8.1-r1.tbz2?sig=x', 'ranger-1.8.1-r1.tbz2'],
    [
      'https://b.s3.amazonaws.com/p/packages/0b7c-app-misc%40ranger-1.8.1-r1.gpkg.tar?X-Amz-Signature=1',
      'ranger-1.8.1-r1.gpkg.tar',
    ],
    ['http://h/x.xpak', 'ranger-1.8.1-r1.xpak'],
    ['http://h/download?id=1', 'ranger-1.8.1-r1.tbz2'],
    ['http://h/%zz', 'ranger-1.8.1-r1.tbz2'],
  ])('names %s %s', (url, name) => {
    expect(artifactFileName(ranger, url)).toBe(name);
  });
});

describe('reportError and reportRequestOutcome', () => {
  const streams = () => {
    const stdout = sink();
    const stderr = sink();
    return { stdout, stderr };
  };

  it('lists every usage problem and ends with a JSON line when asked', () => {
    const s = streams();

    const code = reportError(new CliUsageError(['atom: bad', 'use: worse']), { json: true }, s);

    expect(code).toBe(2);
    expect(s.stderr.text).toBe(
      'spotjobs-compile: nothing was sent:\n  atom: bad\n  use: worse\nRun "spotjobs-compile --help" for usage.\n',
    );
    expect(JSON.parse(s.stdout.text)).toEqual({
      ok: false,
      exitCode: 2,
      error: { code: 'USAGE', message: 'atom: bad; use: worse', problems: ['atom: bad', 'use: worse'] },
    });
  });

  it('points at the key for a 401, and gives every error its exit code', () => {
    const s = streams();
    const refused = new CompileApiError({
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'the API key is not valid',
    });

    expect(reportError(refused, { json: false }, s)).toBe(3);
    expect(reportError(new WaitTimeoutError(ID, 'queued', 60), { json: false }, s)).toBe(5);
    expect(reportError(new TypeError('bug'), { json: false }, s)).toBe(70);
    expect(s.stderr.text).toContain(
      'spotjobs-compile: the server refused the credentials (401 UNAUTHORIZED: the API key is not valid); check SPOTJOBS_COMPILE_API_KEY\n',
    );
    expect(s.stdout.text).toBe('');
  });

  it('prints a failure’s reason, retry time, log link and tail, and answers 1', () => {
    const s = streams();
    const { progress } = reporter();
    const failed = build({
      state: 'failed',
      error: { message: 'emerge failed\n\tin compile', at: '2026-01-01T00:01:00.000Z' },
      retryAfter: '2026-01-01T01:01:00.000Z',
    });

    const code = reportRequestOutcome(
      { kind: 'failed', build: failed, created: true, logUrl: 'http://h/log', logTail: ['a', 'b'] },
      { json: false, quiet: false, elapsedMs: 1234 },
      s,
      progress,
    );

    expect(code).toBe(1);
    expect(s.stderr.text).toBe(
      [
        `spotjobs-compile: build ${ID} failed: emerge failed`,
        '  \tin compile',
        '  it may be requested again from 2026-01-01T01:01:00.000Z',
        '  log: http://h/log',
        '  last 2 lines of the log:',
        '  | a',
        '  | b',
        '',
      ].join('\n'),
    );
    expect(s.stdout.text).toBe('');
  });
});
