// The compile hosts' settings travel inside their user data: a script that writes the env file
// with a heredoc delimited by `SPOTJOBS_ENV` (contract §4). Read once here, for the environment
// check and for the compile farm's own tests.

export interface UserDataEnvFile {
  /** `KEY` → value as written in the script (`${…}` Sub references still in it). */
  readonly variables: Record<string, string>;
  /** Lines that are not `KEY=value`, comments or blank. */
  readonly badLines: readonly string[];
}

/**
 * The env file a user-data script writes, or undefined when it writes none.
 *
 * @example
 * ```ts
 * userDataEnvFile("cat > /etc/x.env <<'SPOTJOBS_ENV'\nA=1\nB=\"${Queue}\"\nSPOTJOBS_ENV\n");
 * // { variables: { A: '1', B: '${Queue}' }, badLines: [] }
 * ```
 */
export function userDataEnvFile(script: string): UserDataEnvFile | undefined {
  const lines = script.split('\n');
  const start = lines.findIndex((line) => /<<\s*'SPOTJOBS_ENV'\s*$/.test(line));
  const end = lines.findIndex((line, i) => i > start && line.trim() === 'SPOTJOBS_ENV');
  if (start < 0 || end < 0) return undefined;
  const variables: Record<string, string> = {};
  const badLines: string[] = [];
  for (const line of lines.slice(start + 1, end)) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(text);
    if (match?.[1] === undefined) badLines.push(text);
    // systemd's EnvironmentFile drops one pair of surrounding quotes.
    else variables[match[1]] = (match[2] ?? '').replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return { variables, badLines };
}
