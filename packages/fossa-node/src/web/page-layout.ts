import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Html, html, rawHtml } from './html.ts';

// The frame every page shares (node pages and the gateway), the stylesheet, and how a page is
// sent. The Content-Security-Policy allows no script at all and styles only from this origin:
// escaping keeps input out of the markup, and the policy is the second wall if that ever slips.

/** Where the stylesheet is served (Fossa's path). */
export const STYLESHEET_PATH = '/static/fossa.css';

const STYLESHEET = `body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#1d2125}
h1{margin-bottom:0}h1+p{margin-top:.25rem;color:#555}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}
th,td{border:1px solid #ccd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f5}.skinny-table{width:50%}
pre{margin:0;white-space:pre-wrap;word-break:break-all}
.status-complete{color:#11703a}.status-failed{color:#b3261e}.status-running{color:#0b57d0}
nav.pages a{margin-right:1rem}footer{margin-top:2rem;color:#777;font-size:.85rem}
`;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * A whole page: doctype, head with the stylesheet, `body`, footer.
 *
 * @example
 * ```ts
 * sendHtml(res, 200, pageLayout({ title: 'Fossa', subtitle: 'node abc', body: html`<p>hi</p>` }));
 * ```
 */
export function pageLayout(page: { title: string; subtitle?: string; body: Html }): Html {
  return html`${rawHtml('<!doctype html>')}
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title><link rel="stylesheet" href="${STYLESHEET_PATH}"></head>
<body><header><h1>${page.title}</h1>${page.subtitle === undefined ? '' : html`<p>${page.subtitle}</p>`}</header>
<main>${page.body}</main>
<footer>spotjobs fossa-node: execution engine for Aye-Aye ETL models</footer></body></html>
`;
}

/** Sends a page (the body is left out for HEAD). */
export function sendHtml(req: IncomingMessage, res: ServerResponse, status: number, page: Html): void {
  send(req, res, status, 'text/html; charset=utf-8', page.toString());
}

/** Sends plain text, e.g. Fossa's `Task not found`. */
export function sendText(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  send(req, res, status, 'text/plain; charset=utf-8', text);
}

/** Serves the stylesheet. */
export function sendStylesheet(req: IncomingMessage, res: ServerResponse): void {
  send(req, res, 200, 'text/css; charset=utf-8', STYLESHEET);
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, 'content-length': bytes.length });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}
