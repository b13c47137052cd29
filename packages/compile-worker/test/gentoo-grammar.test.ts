import { describe, expect, it } from 'vitest';
import { parseQualifiedName, parseVersionedAtom } from '../src/gentoo/atom.ts';
import { describeCharacter, quoteValue } from '../src/gentoo/grammar-text.ts';
import { categoryProblem, packageNameProblem } from '../src/gentoo/package-names.ts';
import { useFlagProblem } from '../src/gentoo/use-flags.ts';
import { versionProblem } from '../src/gentoo/version.ts';

// Table-driven checks of the PMS grammar at the request boundary. Each refused case names the
// part of the message a client needs (the offending character or rule).

describe('versions (PMS 3.2)', () => {
  it.each([
    '0',
    '1.8.1',
    '1.7.0',
    '2.0_rc1',
    '1.0_alpha',
    '1.0_beta2_pre3',
    '1.2.3b_p20240101',
    '1_p1_p2',
    '2.5.1-r1',
    '1.0-r0',
    '3.14a',
    '007.0010',
    '1.0_alpha1_beta2_pre3_rc4_p5-r6',
  ])('accepts %s', (version) => {
    expect(versionProblem(version)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['v1.0', 'not a Gentoo version'],
    ['1.0-', 'not a Gentoo version'],
    ['1.0-r', 'not a Gentoo version'],
    ['1.0-R1', 'contains "R"'],
    ['1.0_RC1', 'contains "R"'],
    ['1.0_gamma', 'not a Gentoo version'],
    ['1.0ab', 'not a Gentoo version'],
    ['.1', 'not a Gentoo version'],
    ['1..0', 'not a Gentoo version'],
    ['1.0-r1-r2', 'not a Gentoo version'],
    ['1.0;id', 'contains ";"'],
    ['1.0 ', 'contains U+0020'],
    ['$(reboot)', 'contains "$"'],
    ['1.0`id`', 'contains "`"'],
    ['../../etc', 'contains "/"'],
    ['1.0\n', 'contains U+000A'],
    ['1.0\u0000', 'contains U+0000'],
    ['１.0', 'contains U+FF11'], // fullwidth digit one
    ['1.0\u200b', 'contains U+200B'], // zero-width space
    ['1'.repeat(65), 'longer than 64'],
  ])('refuses %j (%s)', (version, reason) => {
    expect(versionProblem(version)).toContain(reason);
  });
});

describe('category names (PMS 3.1.1)', () => {
  it.each(['app-misc', 'dev-libs', 'virtual', 'x11-libs', 'dev-perl', 'sys-apps', 'a', 'A_b+c.d-e', '9'])(
    'accepts %s',
    (category) => {
      expect(categoryProblem(category)).toBeUndefined();
    },
  );

  it.each([
    ['', 'empty'],
    ['..', 'must not begin with a hyphen, dot or plus'],
    ['.', 'must not begin with a hyphen, dot or plus'],
    ['.hidden', 'must not begin'],
    ['-app', 'must not begin'],
    ['+app', 'must not begin'],
    ['app misc', 'contains U+0020'],
    ['app;misc', 'contains ";"'],
    ['app|misc', 'contains "|"'],
    ['app&misc', 'contains "&"'],
    ['app\\misc', 'contains "\\\\"'],
    ['app%2fmisc', 'contains "%"'],
    ['ãpp', 'contains U+00E3'],
    ['a'.repeat(65), 'longer than 64'],
  ])('refuses %j (%s)', (category, reason) => {
    expect(categoryProblem(category)).toContain(reason);
  });
});

describe('package names (PMS 3.1.2)', () => {
  it.each([
    'ranger',
    'tree',
    'libsigc++',
    'gtk+',
    'foo-bar',
    'foo_bar',
    'x264',
    'font-adobe-100dpi',
    'perl5',
    'a-1x-b',
    '_private',
  ])('accepts %s', (name) => {
    expect(packageNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['-foo', 'must not begin with a hyphen or plus'],
    ['+foo', 'must not begin'],
    ['foo-1', 'must not end in a hyphen and a version'],
    ['perl-5', 'must not end in a hyphen and a version'],
    ['foo-1.0', 'must not end in a hyphen and a version'],
    ['foo-1.0-r1', 'must not end in a hyphen and a version'],
    ['foo-2a', 'must not end in a hyphen and a version'],
    ['foo-1_rc2', 'must not end in a hyphen and a version'],
    ['foo.bar', 'contains "."'],
    ['..', 'contains "."'],
    ['foo/bar', 'contains "/"'],
    ['foo bar', 'contains U+0020'],
    ['foo;rm -rf /', 'contains ";"'],
    ['$(id)', 'contains "$"'],
    ['foo\tbar', 'contains U+0009'],
    ['fóo', 'contains U+00F3'],
    ['foo\u{1F600}', 'contains U+1F600'],
    ['f'.repeat(129), 'longer than 128'],
  ])('refuses %j (%s)', (name, reason) => {
    expect(packageNameProblem(name)).toContain(reason);
  });
});

describe('USE flags (PMS 3.1.4)', () => {
  it.each([
    'ssl',
    '-ssl',
    'static-libs',
    'X',
    'gtk+',
    'python_targets_python3_12',
    'l10n_pt-BR',
    'foo@bar',
    '3dnow',
    '-3dnow',
  ])('accepts %s', (flag) => {
    expect(useFlagProblem(flag)).toBeUndefined();
  });

  it.each([
    ['-', 'no name'],
    ['--ssl', 'must start with a letter or digit'],
    ['_ssl', 'must start with a letter or digit'],
    ['+ssl', 'must start with a letter or digit'],
    ['@ssl', 'must start with a letter or digit'],
    ['-*', 'contains "*"'],
    ['~amd64', 'contains "~"'],
    ['ssl;reboot', 'contains ";"'],
    ['$(id)', 'contains "$"'],
    ['a|b', 'contains "|"'],
    ['a>b', 'contains ">"'],
    ['a"b', 'contains "\\""'],
    ["a'b", `contains "'"`],
    ['a%20b', 'contains "%"'],
    ['ssl\u00a0', 'contains U+00A0'],
    ['ßsl', 'contains U+00DF'],
    ['s'.repeat(65), 'longer than 64'],
  ])('refuses %j (%s)', (flag, reason) => {
    expect(useFlagProblem(flag)).toContain(reason);
  });
});

describe('qualified names and atoms', () => {
  it.each([
    ['app-misc/ranger', { category: 'app-misc', name: 'ranger' }],
    ['dev-libs/libsigc++', { category: 'dev-libs', name: 'libsigc++' }],
  ])('splits %s', (value, expected) => {
    expect(parseQualifiedName(value)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['ranger', 'exactly one "/"'],
    ['app-misc/ranger/extra', 'exactly one "/"'],
    ['../../etc/passwd', 'exactly one "/"'],
    ['../passwd', 'must not begin with a hyphen, dot or plus'],
    ['/ranger', 'category is empty'],
    ['app-misc/', 'package name is empty'],
    ['app-misc/ranger-1.0', 'must not end in a hyphen and a version'],
  ])('refuses %j (%s)', (value, reason) => {
    const result = parseQualifiedName(value);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.join('; ')).toContain(reason);
  });

  it.each([
    ['app-misc/ranger-1.8.1', { category: 'app-misc', name: 'ranger', version: '1.8.1' }],
    ['=app-misc/ranger-1.8.1-r2', { category: 'app-misc', name: 'ranger', version: '1.8.1-r2' }],
    ['dev-libs/libsigc++-2.12.1-r1', { category: 'dev-libs', name: 'libsigc++', version: '2.12.1-r1' }],
    [
      'media-fonts/font-adobe-100dpi-1.0.4',
      { category: 'media-fonts', name: 'font-adobe-100dpi', version: '1.0.4' },
    ],
    ['dev-lang/perl-5.38.2_rc1', { category: 'dev-lang', name: 'perl', version: '5.38.2_rc1' }],
  ])('parses the atom %s', (atom, expected) => {
    expect(parseVersionedAtom(atom)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['app-misc/ranger', 'has no -version'],
    ['ranger-1.0', 'must be category/package-version'],
    ['>=app-misc/ranger-1.0', 'contains ">"'],
    ['app-misc/ranger-1.0;id', 'contains ";"'],
    ['app-misc/ranger-1.0 x', 'contains U+0020'],
    ['app-misc/../ranger-1.0', 'contains "."'],
    ['app-misc/ranger-1.0-r1-r2', 'must not end in a hyphen and a version'],
    [`app-misc/${'a'.repeat(300)}-1.0`, 'longer than'],
  ])('refuses the atom %j (%s)', (atom, reason) => {
    const result = parseVersionedAtom(atom);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problems.join('; ')).toContain(reason);
  });
});

describe('error wording', () => {
  it('quotes values JSON-escaped and cut to 40 characters', () => {
    expect(quoteValue('a"b\nc')).toBe('"a\\"b\\nc"');
    expect(quoteValue('x'.repeat(50))).toBe(`"${'x'.repeat(40)}…"`);
  });

  it('names invisible and look-alike characters by code point', () => {
    expect(describeCharacter(';')).toBe('";"');
    expect(describeCharacter(' ')).toBe('U+0020');
    expect(describeCharacter('\u202e')).toBe('U+202E');
    expect(describeCharacter('😀')).toBe('U+1F600');
  });
});
