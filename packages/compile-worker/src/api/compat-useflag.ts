import { quoteValue } from '../gentoo/grammar-text.ts';

/**
 * Undoes the original Pacloud client's double encoding of its USE string, exactly once.
 *
 * The client sends `urlencode({'useflag': quote(USE)})`: `quote` turns `a b` into `a%20b` and
 * `urlencode` encodes that again, `a%2520b`. The query string's own decoding (ours, or API
 * Gateway's) gives `a%20b`; this decodes once more, with `decodeURIComponent` (so `+` stays a
 * plus: in the client's encoding a plus arrives as `%2B`, and a space never as `+`).
 *
 * A value without `%` is used as it is, so a client that encodes once (`useflag=a%20b` or
 * `useflag=a+b`) works too; no valid USE flag contains `%`, so a `%` can only come from the
 * double encoding. Decoding never runs twice: a value encoded three times keeps a `%` and is
 * refused by the USE grammar. Malformed escapes (`%zz`, a lone surrogate) are refused here.
 *
 * @example
 * ```ts
 * decodeCompatUseflag('~amd64%20imlib%20ncurses'); // { ok: true, value: '~amd64 imlib ncurses' }
 * ```
 */
export function decodeCompatUseflag(
  onceDecoded: string,
): { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string } {
  if (!onceDecoded.includes('%')) return { ok: true, value: onceDecoded };
  try {
    return { ok: true, value: decodeURIComponent(onceDecoded) };
  } catch {
    return { ok: false, reason: `${quoteValue(onceDecoded)} has a malformed percent-encoding` };
  }
}

// `~amd64`: an ACCEPT_KEYWORDS entry, not a USE flag (a tilde is outside the flag grammar).
const KEYWORD = /^~[a-z0-9][a-z0-9_-]*$/;

/**
 * Splits off the `~arch` keywords the original client's default configuration puts in its USE
 * string (`USE = ~amd64 imlib ncurses jpeg gpm`). They never meant a USE flag (the original
 * passed them to `USE=` where Portage ignored them), and keywords are the builder profile's
 * business, so the compat endpoint drops them instead of refusing every request of a default
 * client. Everything else goes on to the USE grammar. The clean API does not drop them.
 *
 * @example
 * ```ts
 * splitCompatKeywords('~amd64 imlib'); // { use: 'imlib', keywords: ['~amd64'] }
 * ```
 */
export function splitCompatKeywords(use: string): { readonly use: string; readonly keywords: string[] } {
  const keywords: string[] = [];
  const kept: string[] = [];
  for (const token of use.split(/[ \t\r\n]+/)) {
    if (token === '') continue;
    if (KEYWORD.test(token)) keywords.push(token);
    else kept.push(token);
  }
  return { use: kept.join(' '), keywords };
}
