// What the executor accepts and what it hands to emerge: package parsing, USE and job-id checks,
// the two steps' argv and environment, and which files count as the binary package.
import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { buildSteps, isBinpkgOf } from '../src/executor/build-steps.ts';
import { assertJobId, assertUseFlags, parseBuildTarget } from '../src/executor/build-target.ts';

describe('parseBuildTarget', () => {
  it.each([
    ['app-misc/ranger-1.8.1', 'app-misc', 'ranger', '1.8.1'],
    ['dev-libs/libsigc++-2.12.1-r1', 'dev-libs', 'libsigc++', '2.12.1-r1'],
    ['app-misc/foo-bar-1.0_rc2_p3', 'app-misc', 'foo-bar', '1.0_rc2_p3'],
    ['x11-libs/gtk+-3.24.41', 'x11-libs', 'gtk+', '3.24.41'],
    ['app-misc/foo-2bar-1.0a', 'app-misc', 'foo-2bar', '1.0a'],
  ])('splits %s', (cpv, category, name, version) => {
    expect(parseBuildTarget(cpv)).toEqual({
      cpv,
      category,
      name,
      version,
      nameVersion: `${name}-${version}`,
    });
  });

  it.each([
    '=app-misc/ranger-1.8.1', // the executor adds the operator itself
    'app-misc/ranger',
    'ranger-1.8.1',
    '-app-misc/ranger-1.8.1',
    'app-misc/ranger-1.8.1;id',
    'app-misc/ranger-1.8.1 --root=/',
    '../../etc/passwd-1.0',
    'app-misc/../ranger-1.0',
    'app-misc/rangér-1.0',
    'app-misc/ranger-1.0\n',
    `app-misc/${'a'.repeat(300)}-1.0`,
  ])('refuses %j', (cpv) => {
    expect(() => parseBuildTarget(cpv)).toThrow(ValidationError);
  });
});

describe('assertUseFlags', () => {
  it('accepts flags and disabled flags of every legal character', () => {
    expect(() => assertUseFlags(['-doc', 'abi_x86_32', 'c++20', 'foo@bar', 'X', '3dnow'])).not.toThrow();
  });

  it.each([['a b'], ['$(id)'], ['-'], ['--x'], ['a;b'], ['ü'], [''], ['+x'], ['x'.repeat(65)]])(
    'refuses %j',
    (flag) => {
      expect(() => assertUseFlags([flag])).toThrow(ValidationError);
    },
  );
});

describe('assertJobId', () => {
  it('accepts ids that are safe in file and container names only', () => {
    expect(() => assertJobId('0b7c1a0e-job_1.2')).not.toThrow();
    for (const bad of ['', '../x', 'a/b', '.hidden', '-x', 'a b', 'x'.repeat(129)]) {
      expect(() => assertJobId(bad), bad).toThrow(ValidationError);
    }
  });
});

describe('buildSteps', () => {
  it('gives USE to both steps and PKGDIR only to the package step, one argv element per value', () => {
    const [deps, pkg] = buildSteps(
      parseBuildTarget('dev-libs/libsigc++-2.12.1-r1'),
      ['-doc', 'c++20'],
      '/out',
    );

    expect(deps).toEqual({
      name: 'deps',
      argv: ['emerge', '--onlydeps', '--onlydeps-with-rdeps', 'n', '=dev-libs/libsigc++-2.12.1-r1'],
      env: { USE: '-doc c++20' },
    });
    expect(pkg).toEqual({
      name: 'package',
      argv: ['emerge', '--buildpkgonly', '=dev-libs/libsigc++-2.12.1-r1'],
      env: { USE: '-doc c++20', PKGDIR: '/out' },
    });
  });

  it('passes an empty USE when no flag is given (make.conf USE applies)', () => {
    const steps = buildSteps(parseBuildTarget('app-misc/ranger-1.8.1'), [], '/out');
    expect(steps.map((s) => s.env.USE)).toEqual(['', '']);
  });
});

describe('isBinpkgOf', () => {
  const target = parseBuildTarget('dev-libs/libsigc++-2.12.1-r1');

  it.each([
    'dev-libs/libsigc++-2.12.1-r1.tbz2',
    'dev-libs/libsigc++-2.12.1-r1.xpak',
    'dev-libs/libsigc++-2.12.1-r1.gpkg.tar',
    './dev-libs/libsigc++-2.12.1-r1.gpkg.tar',
    'dev-libs/libsigc++/libsigc++-2.12.1-r1-1.gpkg.tar',
    'dev-libs/libsigc++/libsigc++-2.12.1-r1-12.xpak',
  ])('recognises %s', (path) => {
    expect(isBinpkgOf(target, path)).toBe(true);
  });

  it.each([
    'dev-libs/libsigc++-2.12.1.tbz2', // another version
    'dev-libs/libsigc++-2.12.1-r10.tbz2',
    'dev-libs/libsigc++-2.12.1-r1.tar.bz2',
    'dev-libs/libsigc++-2.12.1-r1.gpkg.tar.partial',
    'sys-libs/libsigc++-2.12.1-r1.tbz2', // another category
    'dev-libs/libsigc++/libsigc++-2.12.1-r1-x.gpkg.tar',
    'dev-libs/other/libsigc++-2.12.1-r1-1.gpkg.tar',
    'Packages',
    'dev-libs/a/b/libsigc++-2.12.1-r1.tbz2',
  ])('ignores %s', (path) => {
    expect(isBinpkgOf(target, path)).toBe(false);
  });
});
