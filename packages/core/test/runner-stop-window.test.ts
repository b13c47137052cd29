import { describe, expect, it } from 'vitest';
import { type StopWindowInput, stopWindow } from '../src/runner/stop-window.ts';

const base: StopWindowInput = {
  startMono: 1_000,
  startWall: 1_700_000_000_000,
  graceMs: undefined,
  defaultGraceMs: 25_000,
  deadline: undefined,
  abortGraceMs: 5_000,
  marginMs: 1_000,
};

describe('stopWindow', () => {
  it('drains for the default grace, then gives the abort grace', () => {
    expect(stopWindow(base)).toEqual({
      drainEnd: 26_000,
      abortEnd: 31_000,
      drainEndWall: base.startWall + 25_000,
      abortEndWall: base.startWall + 30_000,
    });
  });

  it('honours an explicit grace, including zero', () => {
    expect(stopWindow({ ...base, graceMs: 3_000 })).toMatchObject({ drainEnd: 4_000, abortEnd: 9_000 });
    expect(stopWindow({ ...base, graceMs: 0 })).toMatchObject({ drainEnd: 1_000, abortEnd: 6_000 });
  });

  it('with a deadline alone, drains until deadline − abort grace − margin (a spot notice)', () => {
    const w = stopWindow({ ...base, deadline: base.startWall + 120_000 });
    expect(w).toEqual({
      drainEnd: 115_000,
      abortEnd: 120_000,
      drainEndWall: base.startWall + 114_000,
      abortEndWall: base.startWall + 119_000,
    });
  });

  it('takes the earlier of grace and deadline', () => {
    expect(stopWindow({ ...base, graceMs: 10_000, deadline: base.startWall + 120_000 }).drainEnd).toBe(
      11_000,
    );
  });

  it('shrinks the abort grace, then the drain, when the deadline is close, never going back in time', () => {
    expect(stopWindow({ ...base, deadline: base.startWall + 4_000 })).toMatchObject({
      drainEnd: 1_000,
      abortEnd: 4_000,
    });
    expect(stopWindow({ ...base, deadline: base.startWall - 10_000 })).toMatchObject({
      drainEnd: 1_000,
      abortEnd: 1_000,
      drainEndWall: base.startWall,
    });
  });
});
