// Text from the server (failure reasons, worker ids, build logs) reaches a terminal: an escape
// sequence in a build log must not be able to move the cursor, retitle the window or hide
// lines. Helpers to show such text safely, and to format times and sizes for people.

/**
 * `text` with every control character but newline and tab (C0, DEL, C1) and the bidi overrides
 * shown as `\xNN` / `\uNNNN` escapes, so it prints as what it is.
 *
 * @example
 * ```ts
 * printable('ok\u001b[2Jgone'); // 'ok\\x1b[2Jgone'
 * ```
 */
export function printable(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const control = (code < 0x20 && char !== '\n' && char !== '\t') || (code >= 0x7f && code <= 0x9f);
    const bidi = (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    if (control) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (bidi) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return out;
}

/**
 * A duration for people: `0.4s`, `12.3s`, `4m05s`, `2h03m`.
 *
 * @example
 * ```ts
 * formatDuration(245_000); // '4m05s'
 * ```
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, ms) / 1000;
  if (total < 60) return `${total.toFixed(1)}s`;
  const seconds = Math.floor(total);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h${pad(Math.floor(seconds / 60) % 60)}m`;
}

/**
 * A size for people, in binary units: `512 B`, `12.1 KiB`, `3.4 MiB`.
 *
 * @example
 * ```ts
 * formatBytes(12_390); // '12.1 KiB'
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
