import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runModel } from '../src/model/run-model.ts';
import { testRuntime, uniqueId } from './support/runtime.ts';
import { Lifecycle } from './support/test-models.ts';

const root = await mkdtemp(join(tmpdir(), 'fossa-models-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('models and their datasets', () => {
  it('close_datasets publishes a writer that build left open', async () => {
    const runtime = testRuntime();
    const out = join(root, uniqueId('lc-'), 'out.ndjson');

    const { result } = await runModel(runtime.environment, {
      taskId: 'pub01',
      spec: { model_class: 'Lifecycle', model_construction_kwargs: { out } },
    });

    expect(result.type).toBe('TaskComplete');
    expect(await readFile(out, 'utf8')).toBe('{"step":"build"}\n');
  });

  it('publishes nothing of a run that failed', async () => {
    const runtime = testRuntime();
    const dir = join(root, uniqueId('fail-'));

    const { result } = await runModel(runtime.environment, {
      taskId: 'pub02',
      spec: {
        model_class: 'Lifecycle',
        model_construction_kwargs: { out: join(dir, 'out.ndjson'), fail: 'build' },
      },
    });

    expect(result.type).toBe('TaskFailed');
    expect(await readdir(dir)).toEqual([]); // not even a temporary file
  });

  it('resolves {names} in dataset URIs from the resolver context, inside the local root', async () => {
    const localRoot = join(root, uniqueId('root-'));
    const runtime = testRuntime({ datasets: { localRoot } });
    const model = new Lifecycle(runtime.context('Lifecycle', { resolver: { day: '2024-04-16' } }), {});

    await model.dataset('{day}/rows.csv').write([{ a: 1 }]);

    expect(await readFile(join(localRoot, '2024-04-16', 'rows.csv'), 'utf8')).toBe('a\r\n1\r\n');
    expect(() => model.dataset('{missing}/rows.csv')).toThrow(/has no value for \{missing\}/);
    expect(() => model.dataset('/etc/{day}.csv')).toThrow(/outside the local root/);
  });

  it('SecondTimeLucky writes one document per subtask on its successful attempt', async () => {
    const runtime = testRuntime();
    const output = join(root, uniqueId('lucky-'));

    const { result } = await runModel(runtime.environment, {
      taskId: 'lucky',
      spec: { model_class: 'SecondTimeLucky', resolver_context: { output_datasets: output } },
    });

    expect(result.type).toBe('TaskComplete');
    expect((await readdir(output)).sort()).toEqual(['a_results.csv', 'b_results.csv', 'c_results.csv']);
    expect(await readFile(join(output, 'a_results.csv'), 'utf8')).toBe('name\r\nhello_world\r\n');
  });

  it("StaggeredEtl writes each subtask's start and finish to staggered_results.csv", async () => {
    const runtime = testRuntime();
    const output = join(root, uniqueId('stag-'));

    const { result } = await runModel(runtime.environment, {
      taskId: 'stagg',
      spec: {
        model_class: 'StaggeredEtl',
        model_construction_kwargs: { sleep_seconds: 0.01 },
        resolver_context: { requested_workers: 4, output_datasets: output },
      },
    });

    expect(result.type).toBe('TaskComplete');
    const lines = (await readFile(join(output, 'staggered_results.csv'), 'utf8')).trimEnd().split('\r\n');
    expect(lines[0]).toBe('started,finished');
    expect(lines).toHaveLength(13);
    // Each row is one subtask's own start and finish times (no assertion on how long it took:
    // timers on a loaded machine are not exact).
    for (const line of lines.slice(1)) {
      const [started, finished] = line.split(',').map(Number);
      expect(started).toBeGreaterThan(0);
      expect(finished).toBeGreaterThanOrEqual(started!);
    }
  });
});
