import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.ts';
import { parseSleepHookLine } from '../src/interruption/sleep-hook-protocol.ts';
import { SleepHookSource } from '../src/interruption/sleep-hook-source.ts';

describe('sleep hook protocol', () => {
  it('reads the lines the hook sends', () => {
    expect(parseSleepHookLine('pre hibernate')).toEqual({ phase: 'pre', sleep: 'hibernate' });
    expect(parseSleepHookLine('post suspend-then-hibernate\r')).toEqual({
      phase: 'post',
      sleep: 'suspend-then-hibernate',
    });
    expect(parseSleepHookLine('pre hybrid-sleep')).toEqual({ phase: 'pre', sleep: 'hybrid-sleep' });
    expect(parseSleepHookLine('post suspend')).toEqual({ phase: 'post', sleep: 'suspend' });
  });

  it('refuses anything else', () => {
    for (const line of [
      '',
      'pre',
      'hibernate pre',
      'pre hibernate now',
      'PRE hibernate',
      'pre  hibernate',
      'post coffee',
    ])
      expect(parseSleepHookLine(line), line).toBeUndefined();
  });

  it('SleepHookSource validates its options', () => {
    for (const options of [
      { socketPath: '' },
      { socketPath: `/tmp/${'x'.repeat(120)}.sock` },
      { ackTimeoutMs: -1 },
      { ackTimeoutMs: 60_001 },
      { listenRetryMs: 0 },
      { sleepSignal: 'SIGUSR1' as const, resumeSignal: 'SIGUSR1' as const },
    ])
      expect(() => new SleepHookSource(options), JSON.stringify(options)).toThrow(ValidationError);
    expect(() => new SleepHookSource()).not.toThrow();
  });
});
