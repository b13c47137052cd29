import { describe, expect, it } from 'vitest';
import { csvLine } from '../src/datasets/csv-format.ts';
import { CsvParser, type CsvRow } from '../src/datasets/csv-parser.ts';
import { DatasetFormatError } from '../src/errors.ts';

/** Parses `text` fed in pieces of `size` characters (1 = one character at a time). */
function parse(text: string, size = text.length || 1): CsvRow[] {
  const parser = new CsvParser('test.csv');
  const rows: CsvRow[] = [];
  for (let i = 0; i < text.length; i += size) rows.push(...parser.push(text.slice(i, i + size)));
  rows.push(...parser.end());
  return rows;
}

function failure(text: string, size?: number): DatasetFormatError {
  try {
    parse(text, size);
  } catch (err) {
    if (err instanceof DatasetFormatError) return err;
    throw err;
  }
  throw new Error('parsed without an error');
}

// Each case is parsed whole and one character at a time: pieces must never change the result.
const pieceSizes = [undefined, 1, 2, 7];

describe('CsvParser (RFC 4180)', () => {
  it.each(pieceSizes)('reads plain records with CRLF, LF and CR line ends (pieces of %s)', (size) => {
    expect(parse('a,b\r\n1,2\n3,4\r5,6', size)).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 2 },
      { fields: ['3', '4'], line: 3 },
      { fields: ['5', '6'], line: 4 },
    ]);
  });

  it.each(pieceSizes)(
    'reads quoted fields with delimiters, doubled quotes and line breaks (pieces of %s)',
    (size) => {
      const text = 'name,note\r\n"Smith, J","said ""hi""\r\nthen left"\r\n"","x"\r\nnext,row\r\n';

      expect(parse(text, size)).toEqual([
        { fields: ['name', 'note'], line: 1 },
        { fields: ['Smith, J', 'said "hi"\r\nthen left'], line: 2 },
        { fields: ['', 'x'], line: 4 },
        { fields: ['next', 'row'], line: 5 },
      ]);
    },
  );

  it.each(pieceSizes)(
    'keeps empty fields, a trailing delimiter and spaces; skips blank lines (pieces of %s)',
    (size) => {
      expect(parse('a,,b\n\n  x , y \r\n\r\nlast,\n""\n', size)).toEqual([
        { fields: ['a', '', 'b'], line: 1 },
        { fields: ['  x ', ' y '], line: 3 },
        { fields: ['last', ''], line: 5 },
        { fields: [''], line: 6 },
      ]);
    },
  );

  it('reads a last record without a line break, and nothing from empty input', () => {
    expect(parse('a,"b"')).toEqual([{ fields: ['a', 'b'], line: 1 }]);
    expect(parse('')).toEqual([]);
    expect(parse('\r\n\n')).toEqual([]);
  });

  it('keeps characters beyond ASCII, and a lone quote in a quoted field only when doubled', () => {
    expect(parse('"ß ∑ 🐟","a""b"\n')).toEqual([{ fields: ['ß ∑ 🐟', 'a"b'], line: 1 }]);
  });

  it.each(pieceSizes)('refuses a quote inside an unquoted field, with its line (pieces of %s)', (size) => {
    const err = failure('a,b\n1,x"y\n', size);

    expect(err.line).toBe(2);
    expect(err.reason).toMatch(/quote inside an unquoted field/);
    expect(err.message).toMatch(/^test\.csv line 2: /);
  });

  it.each(pieceSizes)('refuses text after a closing quote, with the line it is on (pieces of %s)', (size) => {
    const err = failure('a,b\n"multi\nline"x,2\n', size);

    expect(err.line).toBe(3);
    expect(err.reason).toMatch(/"x" after a closing quote/);
  });

  it.each(pieceSizes)(
    'refuses a quoted field never closed, naming the line it opened on (pieces of %s)',
    (size) => {
      const err = failure('a,b\n1,"open\n\n\nstill open', size);

      expect(err.line).toBe(2);
      expect(err.reason).toBe('a quoted field is never closed');
    },
  );

  it('refuses a record longer than the limit', () => {
    const parser = new CsvParser('big.csv', { maxRecordChars: 10 });

    expect(() => parser.push('0123456789,abc')).toThrow(/longer than 10 characters/);
  });

  it('takes another delimiter, and refuses one that cannot work', () => {
    const parser = new CsvParser('t.tsv', { delimiter: '\t' });

    expect([...parser.push('a\tb,c\n'), ...parser.end()]).toEqual([{ fields: ['a', 'b,c'], line: 1 }]);
    expect(() => new CsvParser('x.csv', { delimiter: '"' })).toThrow(DatasetFormatError);
    expect(() => new CsvParser('x.csv', { delimiter: ';;' })).toThrow(DatasetFormatError);
  });
});

describe('csvLine', () => {
  it('quotes only what needs it, doubles quotes and ends lines in CRLF', () => {
    expect(csvLine(['a', 'b c', 'd,e', 'f"g', 'h\ni', ''])).toBe('a,b c,"d,e","f""g","h\ni",\r\n');
    expect(csvLine([''])).toBe('""\r\n');
  });

  it('reads back exactly what it wrote, for awkward values', () => {
    const awkward = [
      '',
      ' ',
      ',',
      '"',
      '""',
      '\r\n',
      '\n',
      '\r',
      'a"b,c\r\nd',
      ' lead',
      'trail ',
      'ü🐟',
      '=1+1',
    ];
    const text = awkward.map((value) => csvLine([value, value])).join('') + csvLine(awkward);

    const rows = parse(text, 3).map((row) => row.fields);

    expect(rows).toEqual([...awkward.map((value) => [value, value]), awkward]);
  });
});
