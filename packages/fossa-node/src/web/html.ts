// Server-side HTML without a framework. Model names, kwargs and results are user input, so
// escaping is structural rather than remembered: every value interpolated into `html`...``
// is escaped unless it is itself `Html` (the output of `html` or `rawHtml`). Arrays of
// fragments are joined. Quotes are escaped too, so a value is safe inside an attribute.

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** A fragment of markup that is already safe to emit. Only `html` and `rawHtml` make one. */
export class Html {
  readonly #markup: string;
  constructor(markup: string) {
    this.#markup = markup;
  }
  toString(): string {
    return this.#markup;
  }
}

/** What may be interpolated: text (escaped), numbers, nothing, markup, or lists of them. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

/**
 * Escapes text for an HTML body or a quoted attribute value.
 *
 * @example
 * ```ts
 * escapeHtml('<b title="x">'); // '&lt;b title=&quot;x&quot;&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/**
 * Markup with every interpolated value escaped (null, undefined and false render as nothing).
 *
 * @example
 * ```ts
 * html`<td>${task.modelClass}</td>`.toString(); // '<td>&lt;script&gt;…</td>' for a hostile name
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/**
 * Trusted markup emitted as is: only for constants written in this code, never for input.
 *
 * @example
 * ```ts
 * rawHtml('<!doctype html>');
 * ```
 */
export function rawHtml(markup: string): Html {
  return new Html(markup);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((item: HtmlValue) => render(item)).join('');
  return escapeHtml(String(value));
}

/**
 * A path segment for a link, percent-encoded so an id can never leave its segment.
 *
 * @example
 * ```ts
 * hrefSegment('abcde:3'); // 'abcde%3A3'
 * ```
 */
export function hrefSegment(value: string): string {
  return encodeURIComponent(value);
}
