import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { startJsonLinesChild } from './support/json-lines-child.ts';

const child = fileURLToPath(new URL('./fixtures/interruption-signal-child.ts', import.meta.url));

interface Line {
  readonly step: string;
  readonly listeners: number;
  readonly notice?: { kind: string; at: number; source: string };
}

describe('SignalInterruptionSource in a real process', () => {
  it('turns a real SIGTERM into a terminate notice, then lets a second SIGTERM end the process', async () => {
    const { proc, lines, exited } = startJsonLinesChild<Line>(child);
    const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 20 });

    await waitFor(() => expect(lines.map((l) => l.step)).toContain('ready'));
    expect(lines[0]).toEqual({ step: 'ready', listeners: 1 });

    const sentAt = Date.now();
    proc.kill('SIGTERM');
    await waitFor(() => expect(lines.map((l) => l.step)).toEqual(['ready', 'notice', 'stopped']));
    const seenAt = Date.now();
    const notice = lines[1]?.notice;
    expect(notice).toMatchObject({ kind: 'terminate', source: 'signal' });
    // Due stopTimeoutMs (45 s) after the signal arrived, which was between sending and seeing it.
    expect(notice!.at).toBeGreaterThanOrEqual(sentAt + 45_000);
    expect(notice!.at).toBeLessThanOrEqual(seenAt + 45_000);
    // The process survived the first signal; the watch over, its listener is gone.
    expect(lines[2]).toEqual({ step: 'stopped', listeners: 0 });
    expect(proc.exitCode).toBeNull();

    proc.kill('SIGTERM');
    expect(await exited).toEqual([null, 'SIGTERM']);
  });
});
