import { describe, expect, it } from 'vitest';
import { escapeHtml, hrefSegment, html, rawHtml } from '../src/web/html.ts';

describe('escapeHtml', () => {
  it('escapes the five characters that can end text or an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('leaves other text, including non-ASCII, as it is', () => {
    expect(escapeHtml('Ünïcödé 東京 ok')).toBe('Ünïcödé 東京 ok');
  });
});

describe('html', () => {
  it('escapes every interpolated string', () => {
    const hostile = '<script>alert(1)</script>';
    expect(html`<td>${hostile}</td>`.toString()).toBe('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
  });

  it('escapes inside attributes so a value cannot close the quote', () => {
    const id = '" onmouseover="alert(1)';
    expect(html`<a href="/task/${id}">x</a>`.toString()).toBe(
      '<a href="/task/&quot; onmouseover=&quot;alert(1)">x</a>',
    );
  });

  it('keeps nested fragments as markup and escapes their own values once', () => {
    const name = 'a<b';
    const inner = html`<b>${name}</b>`;
    expect(html`<p>${inner}</p>`.toString()).toBe('<p><b>a&lt;b</b></p>');
  });

  it('joins arrays, renders numbers, and renders null, undefined and false as nothing', () => {
    const rows = ['<1>', '2'].map((v) => html`<li>${v}</li>`);
    expect(html`<ol>${rows}</ol>${0}${null}${undefined}${false}${true}`.toString()).toBe(
      '<ol><li>&lt;1&gt;</li><li>2</li></ol>0true',
    );
  });

  it('emits rawHtml untouched (constants only)', () => {
    expect(html`${rawHtml('<!doctype html>')}${'<x>'}`.toString()).toBe('<!doctype html>&lt;x&gt;');
  });

  it('a plain object that only looks like markup is escaped as text', () => {
    const forged = { toString: () => '<script>' } as unknown as string;
    expect(html`${forged}`.toString()).toBe('&lt;script&gt;');
  });
});

describe('hrefSegment', () => {
  it('keeps an id inside its path segment', () => {
    expect(hrefSegment('abcde:3')).toBe('abcde%3A3');
    expect(hrefSegment('../../x?y#z')).toBe('..%2F..%2Fx%3Fy%23z');
  });
});
