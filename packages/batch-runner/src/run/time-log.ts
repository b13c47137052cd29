/** What `time.log` records about one run on one node. */
export interface TimeLogEntry {
  readonly startedAt: Date;
  readonly endedAt: Date;
  /** The code the runner exits with (the app's, unless the run failed around it). */
  readonly exitCode: number;
  /** The app's own exit status, when it ran. */
  readonly appExitCode: number | undefined;
  readonly signal: string | null;
  /** `completed`, `terminated (SIGTERM)`, or why the app never ran. */
  readonly status: string;
  readonly node: {
    readonly index: number;
    readonly count: number;
    readonly role: string;
    readonly address: string | undefined;
    readonly slots: number | undefined;
  };
  readonly runId: string;
  readonly attempt: number;
  readonly mode: string;
  /** The command as run, already redacted. */
  readonly command: readonly string[];
}

/**
 * Renders `time.log`: one `name: value` line per fact (SCAR's file held the output of bash's
 * `time`; this one says the same plus the exit code and the node, and is easy to grep).
 *
 * @example
 * ```ts
 * formatTimeLog(entry);
 * // start: 2026-05-01T10:00:00.000Z\nend: 2026-05-01T10:00:12.500Z\nduration_seconds: 12.500\nexit_code: 0\n...
 * ```
 */
export function formatTimeLog(entry: TimeLogEntry): string {
  const seconds = (entry.endedAt.getTime() - entry.startedAt.getTime()) / 1000;
  const { node } = entry;
  const lines: Array<[string, string]> = [
    ['start', entry.startedAt.toISOString()],
    ['end', entry.endedAt.toISOString()],
    ['duration_seconds', seconds.toFixed(3)],
    ['exit_code', String(entry.exitCode)],
    ['app_exit_code', entry.appExitCode === undefined ? 'none' : String(entry.appExitCode)],
    ['signal', entry.signal ?? 'none'],
    ['status', entry.status],
    [
      'node',
      `${node.index} of ${node.count} (${node.role})${node.address ? ` ${node.address}` : ''}${node.slots ? ` slots=${node.slots}` : ''}`,
    ],
    ['run', `${entry.runId} attempt ${entry.attempt} (${entry.mode})`],
    ['command', JSON.stringify(entry.command)],
  ];
  return `${lines.map(([name, value]) => `${name}: ${value.replace(/\n/g, ' ')}`).join('\n')}\n`;
}
