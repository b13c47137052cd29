import type { JsonObject, JsonValue } from '@spotjobs/core';
import { SubTaskFailedError } from '../errors.ts';
import type { TaskSpec } from './task-spec.ts';
import { isJsonObject } from './wire-json.ts';

// The result of running a task, in Aye-Aye's wire shape `{"type": ..., "payload": {...}}`:
// Fossa stores it as a task's `results` and sends it back to a parent, and clients read it,
// so field names and value formats are kept as they are (compat).

/** What a method returned. */
export type TaskCompletePayload = {
  readonly method_name: string;
  readonly method_kwargs: JsonObject;
  readonly return_value: JsonValue;
};

/**
 * Why a task failed. `exception_class_name` reads like Python's `str(type(e))`, e.g.
 * `"<class 'ZeroDivisionError'>"`; `failure_origin_task_id` names the subtask whose failure
 * failed this task (null when the failure is its own).
 */
export type TaskFailedPayload = {
  readonly model_class_name: string;
  readonly model_construction_kwargs: JsonObject;
  readonly partition_initialise_kwargs: JsonObject;
  readonly method_name: string;
  readonly method_kwargs: JsonObject;
  readonly resolver_context: JsonObject;
  readonly exception_class_name: string;
  readonly traceback: string[];
  readonly task_id: string | null;
  readonly failure_origin_task_id: string | null;
};

export type TaskComplete = { readonly type: 'TaskComplete'; readonly payload: TaskCompletePayload };
export type TaskFailed = { readonly type: 'TaskFailed'; readonly payload: TaskFailedPayload };

/** The final message of a task: Fossa's `results`. */
export type TaskResultMessage = TaskComplete | TaskFailed;

const MAX_TRACEBACK_LINES = 60;

/**
 * A `TaskComplete` for `spec`'s method returning `returnValue` (already wire JSON).
 *
 * @example
 * ```ts
 * taskComplete(spec, true); // { type: 'TaskComplete', payload: { method_name: 'go', method_kwargs: {}, return_value: true } }
 * ```
 */
export function taskComplete(spec: TaskSpec, returnValue: JsonValue): TaskComplete {
  return {
    type: 'TaskComplete',
    payload: { method_name: spec.method, method_kwargs: spec.method_kwargs, return_value: returnValue },
  };
}

/**
 * A `TaskFailed` for a task that threw `error`. `spec` may be what arrived rather than a valid
 * spec (a failure to validate it is reported too), so each field is taken only when it has
 * the right type. A `SubTaskFailedError` gives Fossa's shape: an empty traceback and the
 * origin task's id (the deepest one, when subtasks nest).
 *
 * @example
 * ```ts
 * taskFailed(spec, 'abcde:0', new Error('boom')).payload.exception_class_name; // "<class 'Error'>"
 * ```
 */
export function taskFailed(spec: unknown, taskId: string, error: unknown): TaskFailed {
  const fields = isJsonObject(spec) ? spec : {};
  const text = (name: string, fallback: string): string => {
    const value = fields[name];
    return typeof value === 'string' ? value : fallback;
  };
  const object = (name: string): JsonObject => {
    const value = fields[name];
    return isJsonObject(value) ? value : {};
  };
  const subtaskFailure = error instanceof SubTaskFailedError ? error : undefined;
  return {
    type: 'TaskFailed',
    payload: {
      model_class_name: text('model_class', ''),
      model_construction_kwargs: object('model_construction_kwargs'),
      partition_initialise_kwargs: object('partition_initialise_kwargs'),
      method_name: text('method', 'go'),
      method_kwargs: object('method_kwargs'),
      resolver_context: object('resolver_context'),
      exception_class_name: exceptionClassName(error),
      traceback: subtaskFailure ? [] : tracebackOf(error),
      task_id: taskId,
      failure_origin_task_id: subtaskFailure?.originTaskId ?? null,
    },
  };
}

/**
 * Python's `str(type(e))` for a JavaScript error: `"<class 'TypeError'>"`. Fossa's clients
 * and tests compare this string, so the shape is kept; the name is the error's class.
 */
export function exceptionClassName(error: unknown): string {
  const name =
    error instanceof Error
      ? errorName(error)
      : error === null
        ? 'null'
        : typeof error === 'object'
          ? (error.constructor?.name ?? 'Object')
          : typeof error;
  return `<class '${name}'>`;
}

/**
 * An error's class name: its constructor's (a subclass that sets no `name` still says
 * 'Error'), except for the generic classes whose `name` tells more (a DOMException 'AbortError').
 */
function errorName(error: Error): string {
  const constructorName = error.constructor?.name;
  return constructorName && constructorName !== 'Error' && constructorName !== 'DOMException'
    ? constructorName
    : error.name;
}

/**
 * The error as readable lines: `Name: message`, then the stack frames, then each `cause` the
 * same way (a wrapped error's origin is usually what matters), at most 60 lines.
 */
export function tracebackOf(error: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (depth > 0) lines.push('Caused by:');
    if (current instanceof Error) {
      lines.push(`${errorName(current)}: ${current.message}`);
      const frames = (current.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
      lines.push(...frames.map((frame) => frame.trim()));
      current = current.cause;
    } else {
      lines.push(String(current));
      current = undefined;
    }
  }
  return lines.slice(0, MAX_TRACEBACK_LINES);
}
