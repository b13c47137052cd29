// How the original Pacloud client (Python 3) builds its request URL:
//   urlencode({'package': pkg, 'version': ver, 'useflag': quote(USE)})
// `quote` keeps A-Z a-z 0-9 _ . - ~ and '/', `urlencode` applies `quote_plus` (nothing safe but
// the unreserved set, space as '+') to every value, so the USE string ends up encoded twice.

function pyQuote(text: string, safe: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out +=
      /[A-Za-z0-9_.~-]/.test(char) || safe.includes(char)
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function pyQuotePlus(text: string): string {
  return pyQuote(text, ' ').replaceAll(' ', '+');
}

/** The query string the original client sends for one package. */
export function pacloudClientQuery(pkg: string, version: string, use: string): string {
  const params: [string, string][] = [
    ['package', pkg],
    ['version', version],
    ['useflag', pyQuote(use, '/')],
  ];
  return params.map(([name, value]) => `${name}=${pyQuotePlus(value)}`).join('&');
}
