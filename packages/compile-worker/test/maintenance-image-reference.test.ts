// repositoryOf: how the image prune tells this product's images (by repository) from the rest.
import { describe, expect, it } from 'vitest';
import { repositoryOf } from '../src/maintenance/image-reference.ts';

describe('repositoryOf', () => {
  it.each([
    ['docker.io/gentoo/stage3:latest', 'gentoo/stage3'],
    ['index.docker.io/gentoo/stage3', 'gentoo/stage3'],
    [
      'gentoo/stage3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'gentoo/stage3',
    ],
    ['docker.io/library/busybox:1.36', 'busybox'],
    ['library/busybox', 'busybox'],
    ['busybox', 'busybox'],
    ['registry.local:5000/team/builder:2025-06', 'registry.local:5000/team/builder'],
    ['localhost/builder:1', 'localhost/builder'],
    ['quay.io/library/builder:1', 'quay.io/library/builder'],
    ['spotjobs-builder-test:757aa721b8e1', 'spotjobs-builder-test'],
  ])('%s is in %s', (ref, repository) => {
    expect(repositoryOf(ref)).toBe(repository);
  });

  it.each([
    'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '0123456789ab',
    '<none>:<none>',
    '<none>@<none>',
  ])('%s names no repository', (ref) => {
    expect(repositoryOf(ref)).toBeUndefined();
  });
});
