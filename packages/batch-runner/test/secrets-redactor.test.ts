import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../src/secrets/redactor.ts';

async function through(redactor: Redactor, chunks: Array<string | Buffer>): Promise<string[]> {
  const out: string[] = [];
  const stream = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(redactor.stream());
  for await (const chunk of stream) out.push(String(chunk));
  return out;
}

describe('Redactor', () => {
  it('hides every occurrence, longest secret first', () => {
    const redactor = new Redactor(['abc', 'abcdef', '']);
    expect(redactor.redact('x abcdef y abc abcabc')).toBe(
      `x ${REDACTED} y ${REDACTED} ${REDACTED}${REDACTED}`,
    );
    expect(new Redactor([]).active).toBe(false);
  });

  it('hides a secret split across writes, in any split position', async () => {
    const secret = 'Sup3r-S3cret!';
    const text = `password=${secret}\nagain ${secret} end`;
    for (let cut = 1; cut < text.length; cut++) {
      const out = (await through(new Redactor([secret]), [text.slice(0, cut), text.slice(cut)])).join('');
      expect(out, `cut at ${cut}`).toBe(`password=${REDACTED}\nagain ${REDACTED} end`);
    }
  });

  it('hides a multi-line secret (a PEM key) split at its newline', async () => {
    const secret = '-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----';
    const text = `key:\n${secret}\ndone\n`;
    const cut = text.indexOf('\nMIIB') + 1;
    const out = (await through(new Redactor([secret]), [text.slice(0, cut), text.slice(cut)])).join('');
    expect(out).toBe(`key:\n${REDACTED}\ndone\n`);
  });

  it('lets complete lines through at once and holds back only a possible secret prefix', async () => {
    const stream = new Redactor(['0123456789']).stream();
    const seen: string[] = [];
    stream.on('data', (chunk) => seen.push(String(chunk)));
    stream.write('line one\nprompt> ');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['line one\n']);
    stream.write('a long partial line without a newline');
    await new Promise((resolve) => setImmediate(resolve));
    // All but the last 9 characters (the longest secret minus one) are out.
    expect(seen.join('')).toBe('line one\nprompt> a long partial line without ');
    stream.end(' more\n');
    await new Promise((resolve) => stream.on('end', resolve));
    expect(seen.join('')).toBe('line one\nprompt> a long partial line without a newline more\n');
  });

  it('keeps multi-byte characters whole when a write splits them', async () => {
    const bytes = Buffer.from('héllo wörld s3cret ✓\n');
    const out = await through(new Redactor(['s3cret']), [
      bytes.subarray(0, 2),
      bytes.subarray(2, 9),
      bytes.subarray(9),
    ]);
    expect(out.join('')).toBe(`héllo wörld ${REDACTED} ✓\n`);
  });
});
