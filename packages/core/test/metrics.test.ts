import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.ts';
import { exponentialBuckets } from '../src/observability/histogram-buckets.ts';
import { MetricsRegistry } from '../src/observability/metrics.ts';

// One sample line of text format 0.0.4: name, optional {label="escaped",...}, value.
const sampleLine =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (NaN|[+-]Inf|-?\d+(\.\d+)?(e[+-]?\d+)?)$/;

function assertWellFormed(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    expect(line).toMatch(sampleLine);
  }
}

describe('MetricsRegistry', () => {
  it('renders counters and gauges with HELP and TYPE lines, label-less series from 0', () => {
    const registry = new MetricsRegistry();
    const polls = registry.counter({ name: 'app_polls_total', help: 'Polls.' });
    const jobs = registry.counter({
      name: 'app_jobs_total',
      help: 'Jobs.',
      labelNames: ['queue', 'outcome'],
    });
    const temp = registry.gauge({ name: 'app_temperature_celsius', help: 'Temperature.' });
    expect(registry.render()).toBe(
      [
        '# HELP app_polls_total Polls.',
        '# TYPE app_polls_total counter',
        'app_polls_total 0',
        '# HELP app_jobs_total Jobs.',
        '# TYPE app_jobs_total counter',
        '# HELP app_temperature_celsius Temperature.',
        '# TYPE app_temperature_celsius gauge',
        'app_temperature_celsius 0',
        '',
      ].join('\n'),
    );

    polls.inc();
    polls.inc(2.5);
    jobs.inc({ queue: 'a', outcome: 'ok' });
    jobs.inc({ outcome: 'ok', queue: 'a' }, 2);
    jobs.inc({ queue: 'b', outcome: 'failed' });
    temp.set(21);
    temp.inc(-1.5);
    const text = registry.render();
    assertWellFormed(text);
    expect(text).toContain('app_polls_total 3.5\n');
    expect(text).toContain(
      'app_jobs_total{queue="a",outcome="ok"} 3\napp_jobs_total{queue="b",outcome="failed"} 1\n',
    );
    expect(text).toContain('app_temperature_celsius 19.5\n');
    expect(jobs.get({ queue: 'a', outcome: 'ok' })).toBe(3);
    expect(temp.get()).toBe(19.5);
  });

  it('escapes label values and HELP text as the format requires', () => {
    const registry = new MetricsRegistry();
    const c = registry.counter({
      name: 'esc_total',
      help: 'Back\\slash and\nnewline "quoted".',
      labelNames: ['v'],
    });
    c.inc({ v: 'a\\b"c\nd' });
    c.inc({ v: 'ünïcödé ✓' });
    const text = registry.render();
    assertWellFormed(text);
    expect(text).toContain('# HELP esc_total Back\\\\slash and\\nnewline "quoted".\n');
    expect(text).toContain('esc_total{v="a\\\\b\\"c\\nd"} 1\n');
    expect(text).toContain('esc_total{v="ünïcödé ✓"} 1\n');
  });

  it('renders histograms as cumulative buckets with +Inf, _sum and _count; bounds are inclusive', () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram({
      name: 'op_seconds',
      help: 'Op.',
      labelNames: ['op'],
      buckets: [0.1, 1, 10],
    });
    for (const v of [0.05, 0.1, 0.5, 1, 3, 100]) h.observe({ op: 'x' }, v);
    const text = registry.render();
    assertWellFormed(text);
    expect(text).toContain(
      [
        '# TYPE op_seconds histogram',
        'op_seconds_bucket{op="x",le="0.1"} 2',
        'op_seconds_bucket{op="x",le="1"} 4',
        'op_seconds_bucket{op="x",le="10"} 5',
        'op_seconds_bucket{op="x",le="+Inf"} 6',
        'op_seconds_sum{op="x"} 104.65',
        'op_seconds_count{op="x"} 6',
      ].join('\n'),
    );
  });

  it('shows a label-less histogram from the start with default buckets', () => {
    const registry = new MetricsRegistry();
    registry.histogram({ name: 'lat_seconds', help: 'Latency.' });
    const text = registry.render();
    assertWellFormed(text);
    expect(text).toContain('lat_seconds_bucket{le="0.005"} 0\n');
    expect(text).toContain('lat_seconds_bucket{le="+Inf"} 0\nlat_seconds_sum 0\nlat_seconds_count 0\n');
  });

  it('writes NaN and infinities in the format spelling', () => {
    const registry = new MetricsRegistry();
    const g = registry.gauge({ name: 'odd', help: 'Odd values.', labelNames: ['k'] });
    g.set({ k: 'nan' }, Number.NaN);
    g.set({ k: 'pos' }, Number.POSITIVE_INFINITY);
    g.set({ k: 'neg' }, Number.NEGATIVE_INFINITY);
    const text = registry.render();
    assertWellFormed(text);
    expect(text).toContain('odd{k="nan"} NaN\nodd{k="pos"} +Inf\nodd{k="neg"} -Inf\n');
  });

  it('runs collectors before each render', () => {
    const registry = new MetricsRegistry();
    const g = registry.gauge({ name: 'live', help: 'Live value.' });
    let n = 0;
    registry.addCollector(() => g.set(++n));
    expect(registry.render()).toContain('live 1\n');
    expect(registry.render()).toContain('live 2\n');
    expect(new MetricsRegistry().render()).toBe('');
  });

  it('answers the existing metric on a matching re-registration and refuses a conflicting one', () => {
    const registry = new MetricsRegistry();
    const a = registry.counter({ name: 'x_total', help: 'X.', labelNames: ['q'] });
    expect(registry.counter({ name: 'x_total', help: 'X again.', labelNames: ['q'] })).toBe(a);
    expect(registry.get('x_total')).toBe(a);
    expect(() => registry.gauge({ name: 'x_total', help: 'X.', labelNames: ['q'] })).toThrow(ValidationError);
    expect(() => registry.counter({ name: 'x_total', help: 'X.', labelNames: ['r'] })).toThrow(
      ValidationError,
    );
    registry.histogram({ name: 'h', help: 'H.', buckets: [1, 2] });
    expect(() => registry.histogram({ name: 'h', help: 'H.', buckets: [1, 3] })).toThrow(ValidationError);
  });

  it('validates names, labels, counter increments and buckets', () => {
    const r = new MetricsRegistry();
    expect(() => r.counter({ name: '1bad', help: '' })).toThrow(ValidationError);
    expect(() => r.counter({ name: 'bad-name', help: '' })).toThrow(ValidationError);
    expect(() => r.counter({ name: 'ok_total', help: '', labelNames: ['__reserved'] })).toThrow(
      ValidationError,
    );
    expect(() => r.counter({ name: 'ok_total', help: '', labelNames: ['a', 'a'] })).toThrow(ValidationError);
    expect(() => r.histogram({ name: 'h1', help: '', buckets: [2, 1] })).toThrow(ValidationError);
    expect(() => r.histogram({ name: 'h2', help: '', buckets: [1, Number.NaN] })).toThrow(ValidationError);
    expect(() => r.histogram({ name: 'h3', help: '', labelNames: ['le'] })).toThrow(ValidationError);
    expect(r.histogram({ name: 'h4', help: '', buckets: [1, Number.POSITIVE_INFINITY] }).buckets).toEqual([
      1,
    ]);

    const c = r.counter({ name: 'c_total', help: '', labelNames: ['a', 'b'] });
    expect(() => c.inc({ a: 'x' } as never)).toThrow(ValidationError);
    expect(() => c.inc({ a: 'x', b: 'y', z: 'extra' } as never)).toThrow(ValidationError);
    expect(() => c.inc({ a: 'x', b: 'y' }, -1)).toThrow(ValidationError);
    expect(() => c.inc({ a: 'x', b: 'y' }, Number.NaN)).toThrow(ValidationError);
    expect(r.render()).not.toContain('c_total{');
  });

  it('builds exponential buckets without float noise', () => {
    expect(exponentialBuckets(0.1, 4, 5)).toEqual([0.1, 0.4, 1.6, 6.4, 25.6]);
    expect(() => exponentialBuckets(0, 2, 3)).toThrow(ValidationError);
  });
});
