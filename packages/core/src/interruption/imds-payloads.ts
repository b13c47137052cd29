import { ValidationError } from '../errors.ts';
import type { InterruptionNotice } from '../ports/interruption-source.ts';

/** Where IMDS publishes a spot interruption notice (404 while there is none). */
export const instanceActionPath = '/latest/meta-data/spot/instance-action';
/** Where IMDS publishes a rebalance recommendation (404 while there is none). */
export const rebalancePath = '/latest/meta-data/events/recommendations/rebalance';

const actions = new Set(['terminate', 'stop', 'hibernate']);

/**
 * Reads a `spot/instance-action` body, `{"action":"terminate|stop|hibernate","time":"<UTC>"}`,
 * as a notice; throws `ValidationError` for anything else (bad JSON, an unknown action, a time
 * that does not parse), so a garbled answer never passes for an interruption.
 *
 * @example
 * ```ts
 * parseInstanceAction('{"action":"stop","time":"2026-09-18T08:22:00Z"}', 'imds');
 * // { kind: 'stop', at: 1789719720000, source: 'imds' }
 * ```
 */
export function parseInstanceAction(body: string, source: string): InterruptionNotice {
  const value = parseObject(body, instanceActionPath);
  const { action, time } = value;
  const problems: string[] = [];
  if (typeof action !== 'string' || !actions.has(action))
    problems.push(`action must be terminate, stop or hibernate (got ${JSON.stringify(action)})`);
  const at = parseTime(time);
  if (at === undefined) problems.push(`time must be a UTC date-time (got ${JSON.stringify(time)})`);
  if (problems.length > 0 || at === undefined)
    throw new ValidationError(`malformed ${instanceActionPath}`, problems);
  return { kind: action as 'terminate' | 'stop' | 'hibernate', at, source };
}

/**
 * Reads an `events/recommendations/rebalance` body, `{"noticeTime":"<UTC>"}`, as a notice;
 * throws `ValidationError` for anything else.
 *
 * @example
 * ```ts
 * parseRebalance('{"noticeTime":"2026-10-27T08:22:00Z"}', 'imds'); // { kind: 'rebalance', at: …, source: 'imds' }
 * ```
 */
export function parseRebalance(body: string, source: string): InterruptionNotice {
  const { noticeTime } = parseObject(body, rebalancePath);
  const at = parseTime(noticeTime);
  if (at === undefined)
    throw new ValidationError(`malformed ${rebalancePath}`, [
      `noticeTime must be a UTC date-time (got ${JSON.stringify(noticeTime)})`,
    ]);
  return { kind: 'rebalance', at, source };
}

function parseObject(body: string, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new ValidationError(`malformed ${path}`, ['body is not JSON'], { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError(`malformed ${path}`, ['body is not a JSON object']);
  return value as Record<string, unknown>;
}

// IMDS writes `2026-09-18T08:22:00Z`; only date-times with an explicit zone are accepted, so a
// bare date or a local time can never be read in the worker's own time zone.
const utcDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !utcDateTime.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isFinite(at) ? at : undefined;
}
