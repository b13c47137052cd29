/** What `stop()` was asked for, with the runner's defaults filled in by the caller. */
export interface StopWindowInput {
  /** Monotonic and wall-clock time of the stop request. */
  readonly startMono: number;
  readonly startWall: number;
  /** Drain period asked for (undefined: all the time up to `deadline`, or the default grace without one). */
  readonly graceMs: number | undefined;
  readonly defaultGraceMs: number;
  /** Epoch ms by which everything must be settled, if any. */
  readonly deadline: number | undefined;
  readonly abortGraceMs: number;
  /** Kept in hand before the deadline for the last release calls. */
  readonly marginMs: number;
}

export interface StopWindow {
  /** Monotonic ms: jobs still running are interrupted (`ctx.signal` aborts). */
  readonly drainEnd: number;
  /** Monotonic ms: handlers still running are declared stuck and their messages released. */
  readonly abortEnd: number;
  /** `drainEnd` as epoch ms. */
  readonly drainEndWall: number;
  /** `ctx.deadline`: `abortEnd` as epoch ms (by when handlers must have returned). */
  readonly abortEndWall: number;
}

/**
 * Splits the time a stop has into drain and abort phases. With a deadline the abort grace
 * and a margin come off its end first; a deadline too close for both shrinks the abort
 * grace, then the drain, never below zero.
 *
 * ```
 *  start          drainEnd               abortEnd        deadline
 *  |---- drain ----|---- abort grace ------|---- margin ----|
 * ```
 *
 * @example
 * ```ts
 * stopWindow({ startMono: 0, startWall: 0, graceMs: undefined, defaultGraceMs: 25_000, deadline: 120_000,
 *   abortGraceMs: 5_000, marginMs: 1_000 });
 * // { drainEnd: 114_000, abortEnd: 119_000, drainEndWall: 114_000, abortEndWall: 119_000 }
 * ```
 */
export function stopWindow(input: StopWindowInput): StopWindow {
  const { startMono, startWall, deadline, abortGraceMs, marginMs } = input;
  const graceMs = Math.max(0, input.graceMs ?? (deadline === undefined ? input.defaultGraceMs : Infinity));
  const hardEnd = deadline === undefined ? Infinity : startMono + (deadline - startWall) - marginMs;
  const drainEnd = Math.max(startMono, Math.min(startMono + graceMs, hardEnd - abortGraceMs));
  const abortEnd = Math.max(drainEnd, Math.min(drainEnd + abortGraceMs, hardEnd));
  return {
    drainEnd,
    abortEnd,
    drainEndWall: startWall + (drainEnd - startMono),
    abortEndWall: startWall + (abortEnd - startMono),
  };
}
