import { describe, expect, it } from 'vitest';
import { pathId } from '../src/web/page-handler.ts';

describe('pathId', () => {
  it('decodes the id of a /<kind>/<id> path', () => {
    expect(pathId('/task/abcde%3A3', 'task')).toBe('abcde:3');
    expect(pathId('/node/node%20a', 'node')).toBe('node a');
  });

  it('names nothing for another kind, a nested or empty segment, or bad percent-encoding', () => {
    expect(pathId('/node/n-1', 'task')).toBeUndefined();
    expect(pathId('/task/a/b', 'task')).toBeUndefined();
    expect(pathId('/task/', 'task')).toBeUndefined();
    expect(pathId('/task/%E0%A4%A', 'task')).toBeUndefined();
    expect(pathId('/tasks/a', 'task')).toBeUndefined();
  });
});
