import { describe, expect, it } from 'vitest';
import { parseQuery } from '../src/api/api-request.ts';
import { parseCompatQuery } from '../src/api/compat-query.ts';
import { decodeCompatUseflag, splitCompatKeywords } from '../src/api/compat-useflag.ts';
import { InvalidRequestError } from '../src/errors.ts';
import { normaliseUse, splitUse } from '../src/gentoo/use-flags.ts';

describe('normaliseUse', () => {
  it.each([
    ['', []],
    ['   ', []],
    ['ssl', ['ssl']],
    ['b a', ['a', 'b']],
    ['a  b\tc\nd\r\ne', ['a', 'b', 'c', 'd', 'e']],
    ['gtk gtk gtk', ['gtk']],
    ['-doc ssl -doc', ['-doc', 'ssl']],
    // The last setting of a flag wins, as in Portage's incremental USE.
    ['gtk -gtk', ['-gtk']],
    ['-gtk gtk', ['gtk']],
    ['gtk -gtk gtk -gtk', ['-gtk']],
    // Sorted by flag name (code-unit order: upper case before lower case), sign ignored.
    ['zlib -X a -B', ['-B', '-X', 'a', 'zlib']],
    ['static-libs static', ['static', 'static-libs']],
  ])('%j → %j', (input, flags) => {
    const result = normaliseUse(input);
    expect(result).toEqual({ ok: true, flags, text: flags.join(' ') });
  });

  it('gives one normal form for every spelling of the same selection', () => {
    const spellings = [
      'a b -c',
      'b a -c',
      ' -c  a b ',
      'a a b -c -c',
      'c a b -c',
      ['-c', 'b', 'a'],
      ['a', 'c', 'b', '-c'],
    ];
    const forms = spellings.map((s) => JSON.stringify(normaliseUse(s)));
    expect(new Set(forms).size).toBe(1);
    expect(normaliseUse('a b -c')).toMatchObject({ flags: ['a', 'b', '-c'] });
  });

  it('takes an array of single flags', () => {
    expect(normaliseUse(['ssl', '-doc'])).toMatchObject({ ok: true, flags: ['-doc', 'ssl'] });
  });

  it('refuses array elements that are empty or hold several flags', () => {
    const result = normaliseUse(['ssl', '', 'a b']);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      'element 1 is empty',
      'element 2 "a b" holds whitespace (one flag per element)',
    ]);
  });

  it('reports every bad flag, not only the first', () => {
    const result = normaliseUse('ok $(id) fine ;reboot');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toHaveLength(2);
  });

  it('splits on ASCII whitespace only, so a no-break space is refused rather than treated as a separator', () => {
    expect(splitUse('a\u00a0b')).toEqual({ ok: true, tokens: ['a\u00a0b'] });
    expect(normaliseUse('a\u00a0b').ok).toBe(false);
  });

  it('bounds the input', () => {
    expect(normaliseUse('a'.repeat(4097)).ok).toBe(false);
    const many = Array.from({ length: 257 }, (_, i) => `f${i}`);
    expect(normaliseUse(many.join(' '))).toMatchObject({
      ok: false,
      problems: ['names 257 flags, more than 256'],
    });
    expect(normaliseUse(many.slice(0, 256).join(' ')).ok).toBe(true);
  });
});

describe('compat useflag decoding', () => {
  it.each([
    // What the original client sends after the query's own decoding: encoded once more.
    ['~amd64%20imlib%20ncurses%20jpeg%20gpm', '~amd64 imlib ncurses jpeg gpm'],
    ['static-libs', 'static-libs'],
    ['gtk%2B%20ssl', 'gtk+ ssl'],
    // A client that encodes once: no % left, used as is.
    ['a b', 'a b'],
    ['gtk+', 'gtk+'],
    ['', ''],
  ])('%j → %j', (onceDecoded, expected) => {
    expect(decodeCompatUseflag(onceDecoded)).toEqual({ ok: true, value: expected });
  });

  it('decodes exactly once: a triple encoding keeps a % and is left for the grammar to refuse', () => {
    expect(decodeCompatUseflag('a%2520b')).toEqual({ ok: true, value: 'a%20b' });
    expect(normaliseUse('a%20b').ok).toBe(false);
  });

  it.each(['%zz', 'a%', '%E0%A4%A', '%ED%A0%80'])('refuses the malformed escape %j', (value) => {
    expect(decodeCompatUseflag(value)).toMatchObject({ ok: false });
  });

  it('drops ~arch keywords and keeps everything else for the grammar', () => {
    expect(splitCompatKeywords('~amd64 imlib ~arm64 -doc')).toEqual({
      use: 'imlib -doc',
      keywords: ['~amd64', '~arm64'],
    });
    expect(splitCompatKeywords('~ ~~x ~AMD64').keywords).toEqual([]);
  });
});

describe('parseCompatQuery', () => {
  const parse = (raw: string) => parseCompatQuery(parseQuery(raw));
  const problems = (raw: string) => {
    try {
      parse(raw);
    } catch (err) {
      if (err instanceof InvalidRequestError) return err.problems;
      throw err;
    }
    throw new Error('expected a refusal');
  };

  it("reads the original client's double-encoded request", () => {
    // urlencode({'package': 'media-libs/imlib2', 'version': '1.4.10', 'useflag': quote('~amd64 imlib ncurses jpeg gpm')})
    const query =
      'package=media-libs%2Fimlib2&version=1.4.10&useflag=%7Eamd64%2520imlib%2520ncurses%2520jpeg%2520gpm';
    expect(parse(query)).toEqual({
      spec: {
        category: 'media-libs',
        name: 'imlib2',
        version: '1.4.10',
        use: ['gpm', 'imlib', 'jpeg', 'ncurses'],
      },
      droppedKeywords: ['~amd64'],
    });
  });

  it('treats a missing, empty or blank useflag as no USE', () => {
    for (const tail of ['', '&useflag=', '&useflag=+', '&useflag=%20', '&useflag=%2520'])
      expect(parse(`package=app-text/tree&version=1.7.0${tail}`).spec.use).toEqual([]);
  });

  it('names each bad parameter', () => {
    expect(problems('version=1.0')).toEqual([{ field: 'package', reason: 'is required' }]);
    expect(problems('package=app-misc/ranger')).toEqual([{ field: 'version', reason: 'is required' }]);
    expect(problems('package=app-misc/ranger&package=x/y&version=1')).toEqual([
      { field: 'package', reason: 'is given 2 times; give it once' },
    ]);
    expect(
      problems('package=app-misc/ranger&version=1.0&useflag=ssl%253Breboot').map((p) => p.field),
    ).toEqual(['useflag']);
    const all = problems('package=..%2F..%2Fetc&version=1.0%3Bid&useflag=%24(id)');
    expect(all.map((p) => p.field)).toEqual(['package', 'version', 'useflag']);
  });

  it('refuses malformed escapes in the second decoding', () => {
    expect(problems('package=a/b&version=1&useflag=%25zz')).toEqual([
      { field: 'useflag', reason: '"%zz" has a malformed percent-encoding' },
    ]);
  });
});
