import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ResumeDetector } from '../src/interruption/resume-detector.ts';
import type { InterruptionNotice } from '../src/ports/interruption-source.ts';
import { startJsonLinesChild } from './support/json-lines-child.ts';
import { watchNotices } from './support/watch-notices.ts';

const child = fileURLToPath(new URL('./fixtures/interruption-resume-child.ts', import.meta.url));
const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 20 });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ResumeDetector with a real marker file', () => {
  it("ignores the marker's state at start, then reports each change, with the time written in it", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spotjobs-resume-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const marker = join(dir, 'resumed_at');
    await writeFile(marker, '1700000000\n'); // an old resume, before this process started
    // The marker's notices carry no awayMs; a clock-based one (a stall of this busy worker) would.
    const w = watchNotices(
      new ResumeDetector({ markerFile: marker, intervalMs: 20, jumpThresholdMs: 1_500 }),
    );
    const fromMarker = () => w.notices.filter((n) => n.kind === 'resume' && n.awayMs === undefined);

    await pause(300); // ~15 checks
    expect(fromMarker()).toEqual([]);

    await writeFile(marker, '1790000000\n'); // as ec2-hibinit-agent's sleep hook writes it: `date +%s`
    await waitFor(() =>
      expect(fromMarker()).toEqual([{ kind: 'resume', at: 1_790_000_000_000, source: 'resume-detector' }]),
    );

    await pause(1_700); // past the window in which a second observation counts as the same wake-up
    await writeFile(marker, 'resumed\n'); // not a time: the file's mtime stands in
    await waitFor(() => expect(fromMarker()).toHaveLength(2));
    expect(Math.abs(fromMarker()[1]!.at - Date.now())).toBeLessThan(60_000);
    expect(w.errors).toEqual([]);
  });

  it('reports a marker that appears after start (the directory did not exist before)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spotjobs-resume-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const marker = join(dir, 'hibernate', 'resumed_at');
    const w = watchNotices(
      new ResumeDetector({ markerFile: marker, intervalMs: 20, jumpThresholdMs: 1_500 }),
    );
    await pause(100);
    await mkdir(join(dir, 'hibernate'));
    await writeFile(marker, '1790000001\n');
    await waitFor(() =>
      expect(w.notices.filter((n) => n.kind === 'resume' && n.awayMs === undefined).map((n) => n.at)).toEqual(
        [1_790_000_001_000],
      ),
    );
    expect(w.errors).toEqual([]);
  });
});

describe('ResumeDetector in a process frozen with SIGSTOP (the hibernation stand-in)', () => {
  it('reports a resume after SIGCONT, with the time it was frozen', async () => {
    const { proc, lines } = startJsonLinesChild<{ step: string; notice?: InterruptionNotice }>(child);
    await waitFor(() => expect(lines.map((l) => l.step)).toContain('ready'));
    await pause(300);

    const before = lines.length;
    proc.kill('SIGSTOP');
    await pause(2_500);
    proc.kill('SIGCONT');
    await waitFor(() => expect(lines.slice(before).map((l) => l.step)).toContain('notice'));
    const notice = lines.slice(before).find((l) => l.step === 'notice')?.notice;
    expect(notice).toMatchObject({ kind: 'resume', source: 'resume-detector' });
    // Frozen 2.5 s; its check was due within 100 ms of the stop, so at least ~2.4 s late.
    expect(notice?.kind === 'resume' ? notice.awayMs : 0).toBeGreaterThanOrEqual(2_000);
  });
});
