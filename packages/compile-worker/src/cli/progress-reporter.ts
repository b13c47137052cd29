import type { BuildView } from './api-schemas.ts';
import { formatBytes, formatDuration, printable } from './terminal-text.ts';

/** Where progress goes: stderr, so stdout keeps only the result. */
export interface ProgressStream {
  write(text: string): unknown;
  /** A terminal gets a live status line with a spinner; anything else plain lines only. */
  readonly isTTY?: boolean;
}

export interface ProgressReporterOptions {
  readonly stream: ProgressStream;
  /** Nothing but warnings. */
  readonly quiet: boolean;
  /** Monotonic ms (the injected clock's): elapsed times are measured from the reporter's creation. */
  readonly monotonic: () => number;
  /** Status line refresh on a terminal (default 100 ms). */
  readonly refreshMs?: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Tells a person what the CLI is waiting for: one line per change of the build (state, attempt
 * or worker) with the time since the start, e.g.
 *
 * ```
 * [0.0s] queued
 * [4.1s] building (attempt 1, worker i-0abc)
 * [9m12s] ready (sha256 9f86d081…, 1.2 MiB)
 * ```
 *
 * On a terminal a status line below them shows a spinner, the elapsed time and download
 * progress, redrawn in place; elsewhere (a pipe, a CI log) only the plain lines appear.
 * Server-provided text is shown through `printable`.
 *
 * @example
 * ```ts
 * const progress = new ProgressReporter({ stream: process.stderr, quiet: false, monotonic: () => performance.now() });
 * progress.observe(build);
 * progress.finish();
 * ```
 */
export class ProgressReporter {
  readonly #stream: ProgressStream;
  readonly #quiet: boolean;
  readonly #monotonic: () => number;
  readonly #startedAt: number;
  readonly #live: boolean;
  readonly #refreshMs: number;
  #last: string | undefined;
  #status = '';
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;
  #total = 0;
  #received = 0;

  constructor(options: ProgressReporterOptions) {
    this.#stream = options.stream;
    this.#quiet = options.quiet;
    this.#monotonic = options.monotonic;
    this.#startedAt = options.monotonic();
    this.#live = !options.quiet && options.stream.isTTY === true;
    this.#refreshMs = options.refreshMs ?? 100;
  }

  /** Milliseconds since the reporter was made. */
  elapsedMs(): number {
    return this.#monotonic() - this.#startedAt;
  }

  /** A plain progress line (nothing when quiet). */
  info(text: string): void {
    if (!this.#quiet) this.#line(text);
  }

  /** A warning: shown even when quiet. */
  warn(text: string): void {
    this.#line(`warning: ${text}`);
  }

  /** The submission's answer: which build, and whether this request created it. */
  submitted(build: BuildView, created: boolean): void {
    const use = build.use.length > 0 ? ` USE="${printable(build.use.join(' '))}"` : '';
    const how = created ? 'new build' : 'existing build';
    this.info(`${printable(build.atom)}${use}: build ${build.id} (${how})`);
  }

  /** A build as last read: prints a line when its state, attempt or worker changed. */
  observe(build: BuildView): void {
    const details: string[] = [];
    if (build.state === 'building') {
      details.push(`attempt ${build.attempts}`);
      if (build.workerId) details.push(`worker ${printable(build.workerId)}`);
    } else if (build.state === 'queued' && build.attempts > 0) {
      const previous = build.attemptsHistory.at(-1);
      if (previous && previous.outcome !== 'building')
        details.push(
          `attempt ${previous.attempt} ${previous.outcome}${previous.reason ? `: ${printable(previous.reason)}` : ''}`,
        );
    } else if (build.state === 'ready' && build.artifact) {
      details.push(`sha256 ${build.artifact.sha256.slice(0, 12)}…, ${formatBytes(build.artifact.size)}`);
    }
    const text = details.length > 0 ? `${build.state} (${details.join(', ')})` : build.state;
    if (text === this.#last) return;
    this.#last = text;
    this.info(`[${formatDuration(this.elapsedMs())}] ${text}`);
    this.#setStatus(build.state === 'queued' || build.state === 'building' ? `${build.state}` : '');
  }

  /** A transient failure is being retried. */
  retrying(err: Error, delayMs: number): void {
    this.info(`${printable(err.message)}; retrying in ${formatDuration(delayMs)}`);
  }

  /** The download starts. */
  downloading(fileName: string, size: number): void {
    this.info(`downloading ${fileName} (${formatBytes(size)})`);
    this.#setStatus(`downloading ${fileName}`);
    this.#total = size;
    this.#received = 0;
  }

  /** Bytes received so far (shown on the status line of a terminal). */
  downloaded(received: number): void {
    this.#received = received;
  }

  /** Clears the status line and stops its timer; call before printing the result. */
  finish(): void {
    this.#setStatus('');
  }

  #line(text: string): void {
    if (this.#live && this.#status !== '') this.#stream.write('\r\x1b[2K');
    this.#stream.write(`${text}\n`);
    if (this.#live && this.#status !== '') this.#render();
  }

  #setStatus(status: string): void {
    if (!this.#live) return;
    if (status === '') {
      if (this.#status !== '') this.#stream.write('\r\x1b[2K');
      this.#status = '';
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    this.#status = status;
    this.#render();
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#render(), this.#refreshMs);
      this.#timer.unref(); // never what keeps the process alive
    }
  }

  #render(): void {
    const spinner = SPINNER[this.#frame++ % SPINNER.length];
    const progress =
      this.#status.startsWith('downloading') && this.#total > 0
        ? ` ${formatBytes(this.#received)} / ${formatBytes(this.#total)} (${Math.floor((this.#received / this.#total) * 100)}%)`
        : '';
    this.#stream.write(`\r\x1b[2K${spinner} ${this.#status}${progress} ${formatDuration(this.elapsedMs())}`);
  }
}
