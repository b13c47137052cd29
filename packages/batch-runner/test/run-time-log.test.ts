import { describe, expect, it } from 'vitest';
import { formatTimeLog } from '../src/run/time-log.ts';

describe('time.log', () => {
  it('records start, end, duration, exit codes, node and command, one fact per line', () => {
    const text = formatTimeLog({
      startedAt: new Date('2026-05-01T10:00:00.000Z'),
      endedAt: new Date('2026-05-01T10:00:12.500Z'),
      exitCode: 143,
      appExitCode: 143,
      signal: 'SIGTERM',
      status: 'terminated by SIGTERM (app exit 143)',
      node: { index: 0, count: 4, role: 'main', address: '10.0.0.5', slots: 8 },
      runId: 'job-1',
      attempt: 2,
      mode: 'batch',
      command: ['mpirun', '--hostfile', '/w/hostfile', '/opt/app', 'a\nb'],
    });
    expect(text.split('\n')).toEqual([
      'start: 2026-05-01T10:00:00.000Z',
      'end: 2026-05-01T10:00:12.500Z',
      'duration_seconds: 12.500',
      'exit_code: 143',
      'app_exit_code: 143',
      'signal: SIGTERM',
      'status: terminated by SIGTERM (app exit 143)',
      'node: 0 of 4 (main) 10.0.0.5 slots=8',
      'run: job-1 attempt 2 (batch)',
      'command: ["mpirun","--hostfile","/w/hostfile","/opt/app","a\\nb"]',
      '',
    ]);
  });

  it('says none when the app never ran', () => {
    const text = formatTimeLog({
      startedAt: new Date(0),
      endedAt: new Date(1000),
      exitCode: 65,
      appExitCode: undefined,
      signal: null,
      status: 'failed: input s3://b/k refused: outside\nthis job',
      node: { index: 0, count: 1, role: 'lambda', address: undefined, slots: undefined },
      runId: 'r',
      attempt: 1,
      mode: 'lambda',
      command: [],
    });
    expect(text).toContain('app_exit_code: none\nsignal: none\n');
    expect(text).toContain('status: failed: input s3://b/k refused: outside this job\n');
    expect(text).toContain('node: 0 of 1 (lambda)\n');
  });
});
