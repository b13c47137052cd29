import { ValidationError } from '../../errors.ts';

// FsBlobStore's own options. What a put, list or presign may ask is the port's rule
// (`ports/blob-validation.ts`), shared with S3BlobStore.

/** Namespaces name a directory-like space of keys, as a bucket does. */
export function assertNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(namespace)) {
    throw new ValidationError(`invalid blob namespace ${JSON.stringify(namespace)}`, [
      'a namespace is 1 to 63 letters, digits, . _ or -, starting with a letter or digit',
    ]);
  }
}

/** Validates `baseUrl` and answers it without a trailing slash. */
export function normaliseBaseUrl(baseUrl: string | undefined): string | undefined {
  if (baseUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (err) {
    throw new ValidationError(`invalid baseUrl ${JSON.stringify(baseUrl)}`, ['not a URL'], { cause: err });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new ValidationError(`invalid baseUrl ${JSON.stringify(baseUrl)}`, [
      'baseUrl must be an http(s) URL without query or fragment',
    ]);
  }
  return url.href.replace(/\/+$/, '');
}
