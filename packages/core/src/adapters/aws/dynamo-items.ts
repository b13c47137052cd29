import { type TableKey, TableLimits } from '../../ports/table.ts';

// What `Table` accepts, checked before DynamoDB sees it: its own errors for these arrive as a
// generic ValidationException, and some (a NaN, a class instance) would not even marshal.

/** Problems with a table key: both parts non-empty strings of at most `TableLimits.maxKeyBytes`. */
export function keyProblems(key: TableKey): string[] {
  const problems: string[] = [];
  for (const part of ['pk', 'sk'] as const) {
    const value: unknown = key?.[part];
    if (typeof value !== 'string' || value === '') problems.push(`${part} must be a non-empty string`);
    else if (Buffer.byteLength(value) > TableLimits.maxKeyBytes) {
      problems.push(`${part} is longer than ${TableLimits.maxKeyBytes} bytes`);
    }
  }
  return problems;
}

function jsonProblem(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} is not a finite number`;
  if (Array.isArray(value)) {
    for (const [i, element] of value.entries()) {
      const problem = jsonProblem(element, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined) continue; // dropped, as JSON.stringify drops it
      const problem = jsonProblem(element, `${path}.${name}`);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${path} is not a JSON value`;
}

/** Problems with an item's data: a plain JSON object of at most `TableLimits.maxDataBytes` serialised. */
export function dataProblems(data: unknown): string[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return ['data must be a JSON object'];
  const problem = jsonProblem(data, 'data');
  if (problem) return [problem];
  if (Buffer.byteLength(JSON.stringify(data)) > TableLimits.maxDataBytes) {
    return [`data is larger than ${TableLimits.maxDataBytes} bytes serialised`];
  }
  return [];
}
