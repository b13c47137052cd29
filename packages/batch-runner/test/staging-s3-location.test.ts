import { describe, expect, it } from 'vitest';
import { archiveKindOf } from '../src/staging/archive-kind.ts';
import { folderOf, inputKeyProblem, isUnderPrefixes, parseS3Uri } from '../src/staging/s3-location.ts';

describe('input keys', () => {
  it('accepts ordinary keys', () => {
    for (const key of ['input/run.sh', 'home/alice/data set (1).tar.gz', 'a/b/c-d_e.f', 'percent%20space']) {
      expect(inputKeyProblem(key), key).toBeUndefined();
    }
  });

  it('refuses .. and . segments, empty segments, absolute keys and control characters', () => {
    expect(inputKeyProblem('input/../other/x')).toMatch(/\.\. segment/);
    expect(inputKeyProblem('input/./x')).toMatch(/\. or \.\. segment/);
    expect(inputKeyProblem('input//x')).toMatch(/empty/);
    expect(inputKeyProblem('/etc/passwd')).toMatch(/starts with \//);
    expect(inputKeyProblem('a\nb')).toMatch(/control character/);
    expect(inputKeyProblem('a\\..\\b')).toMatch(/backslash/);
  });

  it('refuses percent-encoded slashes, backslashes and dot segments', () => {
    expect(inputKeyProblem('input%2F..%2Fsecret')).toMatch(/percent-encoded slash/);
    expect(inputKeyProblem('input%2fx')).toMatch(/percent-encoded slash/);
    expect(inputKeyProblem('input%5C..')).toMatch(/percent-encoded slash or backslash/);
    expect(inputKeyProblem('input/%2e%2e/secret')).toMatch(/percent-encoded dot segment/);
    expect(inputKeyProblem('input/.%2E/secret')).toMatch(/percent-encoded dot segment/);
  });
});

describe('s3:// URIs and prefixes', () => {
  it('parses objects and folders', () => {
    expect(parseS3Uri('s3://jobs-in/input/run.sh')).toEqual({
      location: { bucket: 'jobs-in', key: 'input/run.sh' },
    });
    expect(parseS3Uri('s3://jobs-in/out/', { allowPrefix: true })).toEqual({
      location: { bucket: 'jobs-in', key: 'out/' },
    });
    expect(parseS3Uri('s3://jobs-in', { allowPrefix: true })).toEqual({
      location: { bucket: 'jobs-in', key: '' },
    });
    expect(parseS3Uri('s3://jobs-in/out/')).toHaveProperty('problem');
    expect(parseS3Uri('https://jobs-in.s3.amazonaws.com/x')).toHaveProperty('problem');
    expect(parseS3Uri('s3://a..b/x')).toHaveProperty('problem');
  });

  it('treats a prefix as a folder: another job or user with a longer name is outside it', () => {
    const prefixes = [{ bucket: 'b-1', key: 'home/alice' }];
    expect(isUnderPrefixes({ bucket: 'b-1', key: 'home/alice/run.sh' }, prefixes)).toBe(true);
    expect(isUnderPrefixes({ bucket: 'b-1', key: 'home/alice2/run.sh' }, prefixes)).toBe(false);
    expect(isUnderPrefixes({ bucket: 'b-1', key: 'home/bob/run.sh' }, prefixes)).toBe(false);
    expect(isUnderPrefixes({ bucket: 'b-2', key: 'home/alice/run.sh' }, prefixes)).toBe(false);
    expect(folderOf({ bucket: 'b-1', key: 'home/alice/run.sh' })).toEqual({
      bucket: 'b-1',
      key: 'home/alice/',
    });
  });

  it('recognises archives by suffix and names their folder', () => {
    expect(archiveKindOf('deps/libs.tar.gz')).toEqual({ kind: 'tar.gz', stem: 'libs' });
    expect(archiveKindOf('x/DATA.TGZ')).toEqual({ kind: 'tar.gz', stem: 'DATA' });
    expect(archiveKindOf('x/a.tar')).toEqual({ kind: 'tar', stem: 'a' });
    expect(archiveKindOf('x/b.zip')).toEqual({ kind: 'zip', stem: 'b' });
    expect(archiveKindOf('x/.zip')).toBeUndefined();
    expect(archiveKindOf('x/run.sh')).toBeUndefined();
  });
});
