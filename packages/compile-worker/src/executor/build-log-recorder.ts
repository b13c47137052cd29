import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Logger } from '@spotjobs/core';
import type { BuildLog, BuildLogLine, BuildStepName } from './build-executor.ts';
import { LineSplitter } from './line-splitter.ts';

const TAIL_LINES = 50;

/**
 * Collects one build's output: every line goes to the log file (in arrival order, stdout and
 * stderr interleaved as a terminal would show them), to the caller's `onLog`, and to the
 * logger; the last lines are kept for failure messages. Lines written by spotjobs itself
 * start with `>>> spotjobs:` so they stand out from Portage's own `>>>` lines.
 */
export class BuildLogRecorder {
  readonly path: string;
  readonly #file: WriteStream;
  readonly #onLog: ((line: BuildLogLine) => void) | undefined;
  readonly #logger: Logger;
  readonly #tail: string[] = [];
  #size = 0;
  #onLogFailed = false;

  constructor(path: string, logger: Logger, onLog?: (line: BuildLogLine) => void) {
    this.path = path;
    this.#file = createWriteStream(path, { flags: 'wx', mode: 0o644 });
    // Errors surface in close(); until then a failing disk must not crash the process.
    this.#file.on('error', () => {});
    this.#logger = logger;
    this.#onLog = onLog;
  }

  /** A line splitter for one stream of one step; call `end()` on it when the stream ends. */
  splitter(step: BuildStepName, stream: BuildLogLine['stream']): LineSplitter {
    return new LineSplitter((line) => this.line({ step, stream, line }));
  }

  line(entry: BuildLogLine): void {
    this.#write(entry.line);
    this.#logger.info({ step: entry.step, stream: entry.stream }, entry.line);
    if (this.#onLog && !this.#onLogFailed) {
      try {
        this.#onLog(entry);
      } catch (err) {
        // A broken callback must not break the build; say so once.
        this.#onLogFailed = true;
        this.#logger.warn({ err }, 'onLog threw; no more lines are passed to it');
      }
    }
  }

  /** A line from spotjobs itself (step headers, limits, verdicts). */
  note(text: string): void {
    this.#write(`>>> spotjobs: ${text}`);
    this.#logger.info(text);
  }

  async close(): Promise<BuildLog> {
    this.#file.end();
    await finished(this.#file);
    return { path: this.path, size: this.#size, tail: [...this.#tail] };
  }

  #write(line: string): void {
    const text = `${line}\n`;
    this.#size += Buffer.byteLength(text);
    this.#file.write(text);
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }
}
