import { onTestFinished } from 'vitest';
import type { InterruptionNotice, InterruptionSource } from '../../src/ports/interruption-source.ts';

/**
 * Watches `source` for the rest of the test: collects its notices and errors, and when the
 * test finishes aborts the watch and waits for it to end (no poll or listener outlives the
 * test). `react` is what `notify` answers (a sleep hook's `pre` waits for it).
 *
 * @example
 * ```ts
 * const w = watchNotices(new ResumeDetector({ markerFile }));
 * await vi.waitFor(() => expect(w.notices).toHaveLength(1));
 * ```
 */
export function watchNotices(
  source: InterruptionSource,
  react: (notice: InterruptionNotice) => void | Promise<void> = () => {},
) {
  const notices: InterruptionNotice[] = [];
  const errors: Error[] = [];
  const controller = new AbortController();
  const watching = source.watch({
    notify: (n) => {
      notices.push(n);
      return react(n);
    },
    onError: (e) => errors.push(e),
    signal: controller.signal,
  });
  onTestFinished(async () => {
    controller.abort();
    await watching;
  });
  return { notices, errors, controller, watching };
}
