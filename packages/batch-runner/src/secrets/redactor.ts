import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** What a secret is replaced by in logs and streamed output. */
export const REDACTED = '***';

/**
 * Removes known secret values from text: the app's streamed output, the runner's own log
 * lines, argv shown in logs. Longer secrets are replaced first, so a secret that contains
 * another is hidden whole.
 *
 * @example
 * ```ts
 * const redactor = new Redactor(['s3cr3t']);
 * redactor.redact('password=s3cr3t'); // 'password=***'
 * process.stdout.write(...) // or: app.stdout.pipe(redactor.stream()).pipe(process.stdout)
 * ```
 */
export class Redactor {
  readonly #secrets: readonly string[];
  readonly #longest: number;

  constructor(secrets: Iterable<string>) {
    this.#secrets = [...new Set([...secrets].filter((s) => s.length > 0))].sort(
      (a, b) => b.length - a.length,
    );
    this.#longest = this.#secrets[0]?.length ?? 0;
  }

  /** Whether there is anything to hide. */
  get active(): boolean {
    return this.#secrets.length > 0;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.replaceAll(secret, REDACTED);
    return out;
  }

  /**
   * A stream that redacts bytes flowing through it. Output goes out line by line; a partial
   * line is held back only by the longest secret's length minus one (the most a secret
   * split across two writes can show), so a prompt without a newline still appears.
   */
  stream(): Transform {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    const keep = Math.max(0, this.#longest - 1);
    // A multi-line secret (a PEM key) may straddle a newline, so then only the tail rule holds.
    const lineByLine = !this.#secrets.some((s) => s.includes('\n'));
    const redact = (text: string) => this.redact(text);
    return new Transform({
      transform(chunk: Buffer, _encoding, callback: TransformCallback) {
        pending = redact(pending + decoder.write(chunk));
        // All but a possible secret prefix at the end can go; with single-line secrets,
        // everything up to the last newline too.
        const lineEnd = lineByLine ? pending.lastIndexOf('\n') + 1 : 0;
        const cut = Math.max(lineEnd, pending.length - keep);
        if (cut > 0) {
          callback(null, pending.slice(0, cut));
          pending = pending.slice(cut);
        } else callback();
      },
      flush(callback: TransformCallback) {
        const rest = redact(pending + decoder.end());
        pending = '';
        callback(null, rest.length > 0 ? rest : undefined);
      },
    });
  }
}
