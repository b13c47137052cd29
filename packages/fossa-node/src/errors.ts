import { SpotjobsError } from '@spotjobs/core';
import type { TaskFailedPayload } from './model/task-messages.ts';

// The error classes of `@spotjobs/fossa-node`'s model runtime and dataset connectors. Each has
// a stable `code` and passes on its `cause`. None knows about HTTP: the node maps them to
// status codes (an unknown class is Fossa's 412, an invalid task spec a 400).

/**
 * A task names a model class that is not on the node's allow-list. The message is Fossa's,
 * word for word, because clients show it.
 *
 * @example
 * ```ts
 * new UnknownModelClassError('Nope').message; // "Model class 'Nope' is not in the list of accepted classes."
 * ```
 */
export class UnknownModelClassError extends SpotjobsError {
  readonly code = 'UNKNOWN_MODEL_CLASS';
  readonly modelClass: string;
  constructor(modelClass: string, options?: { cause?: unknown }) {
    super(`Model class '${modelClass}' is not in the list of accepted classes.`, options);
    this.modelClass = modelClass;
  }
}

/**
 * A task asks for a method its model class does not list in its static `methods`: only listed
 * methods can be called by name, so a request cannot reach `constructor` or a helper.
 *
 * @example
 * ```ts
 * throw new MethodNotAllowedError('NothingEtl', 'close_datasets');
 * ```
 */
export class MethodNotAllowedError extends SpotjobsError {
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly modelClass: string;
  readonly method: string;
  constructor(modelClass: string, method: string, options?: { cause?: unknown }) {
    super(`Method '${method}' of model class '${modelClass}' cannot be called by name.`, options);
    this.modelClass = modelClass;
    this.method = method;
  }
}

/**
 * A task spec (the body of a submission, or a subtask message) has the wrong shape. `issues`
 * lists every problem; a missing `model_class` reads as Fossa's "'model_class' is a mandatory field".
 *
 * @example
 * ```ts
 * try { checkTaskSpec(body); } catch (err) { if (err instanceof InvalidTaskSpecError) reply(400, err.issues[0]); }
 * ```
 */
export class InvalidTaskSpecError extends SpotjobsError {
  readonly code = 'INVALID_TASK_SPEC';
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`invalid task spec: ${issues.join('; ')}`, options);
    this.issues = issues;
  }
}

/**
 * A partitioned model's `partition_plea` or `partition_slice` answered something the runtime
 * cannot run (a bad worker count, an unknown method, a class not on the allow-list).
 *
 * @example
 * ```ts
 * throw new InvalidPartitionError('PartialFailure', ['subtask 2: method "nope" cannot be called by name']);
 * ```
 */
export class InvalidPartitionError extends SpotjobsError {
  readonly code = 'INVALID_PARTITION';
  readonly modelClass: string;
  readonly issues: readonly string[];
  constructor(modelClass: string, issues: readonly string[], options?: { cause?: unknown }) {
    super(`${modelClass} partitioned itself badly: ${issues.join('; ')}`, options);
    this.modelClass = modelClass;
    this.issues = issues;
  }
}

/**
 * Raised by the default `partition_subtask_failed`: a subtask failed (after its retry), so the
 * parent fails too, and its `TaskFailed` names the subtask as `failure_origin_task_id`. The
 * message follows Aye-Aye's `SubTaskFailed`.
 *
 * @example
 * ```ts
 * override partition_subtask_failed(failure: TaskFailedPayload) {
 *   if (failure.method_name === 'optional_step') return this.log('optional step failed', 'WARNING');
 *   throw new SubTaskFailedError(failure);
 * }
 * ```
 */
export class SubTaskFailedError extends SpotjobsError {
  readonly code = 'SUBTASK_FAILED';
  readonly failure: TaskFailedPayload;
  constructor(failure: TaskFailedPayload, options?: { cause?: unknown }) {
    super(
      [
        `Subtask failed. '${failure.model_class_name}.${failure.method_name}' raised an ` +
          `${failure.exception_class_name} exception.`,
        ...failure.traceback,
      ].join('\n'),
      options,
    );
    this.failure = failure;
  }

  /** The task that failed first: a nested subtask's own origin, else the subtask itself. */
  get originTaskId(): string | null {
    return this.failure.failure_origin_task_id ?? this.failure.task_id;
  }
}

/**
 * A subtask ran past the dispatcher's per-subtask timeout; its attempt counts as failed (and
 * is retried by the dispatcher's policy).
 */
export class SubtaskTimeoutError extends SpotjobsError {
  readonly code = 'SUBTASK_TIMEOUT';
  readonly taskId: string;
  readonly timeoutMs: number;
  constructor(taskId: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`subtask ${taskId} ran longer than ${timeoutMs} ms`, options);
    this.taskId = taskId;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A `{name}` in a template has no value in the resolver context.
 *
 * @example
 * ```ts
 * ResolverContext.from({}).resolve('{output}/a.csv'); // throws UnresolvedTemplateError, names ['output']
 * ```
 */
export class UnresolvedTemplateError extends SpotjobsError {
  readonly code = 'UNRESOLVED_TEMPLATE';
  readonly template: string;
  readonly names: readonly string[];
  constructor(template: string, names: readonly string[], options?: { cause?: unknown }) {
    super(
      `template ${JSON.stringify(template)} has no value for ${names.map((n) => `{${n}}`).join(', ')}`,
      options,
    );
    this.template = template;
    this.names = names;
  }
}

/**
 * A dataset URI is malformed, unsafe (a `..` segment, a path outside the local root) or names
 * something this node cannot reach (an S3 bucket without a store).
 *
 * @example
 * ```ts
 * openDataset('/data/../etc/passwd.csv', {}); // throws DatasetUriError
 * ```
 */
export class DatasetUriError extends SpotjobsError {
  readonly code = 'DATASET_URI';
  readonly uri: string;
  readonly issues: readonly string[];
  constructor(uri: string, issues: readonly string[], options?: { cause?: unknown }) {
    super(`invalid dataset ${JSON.stringify(uri)}: ${issues.join('; ')}`, options);
    this.uri = uri;
    this.issues = issues;
  }
}

/**
 * A dataset's content breaks its format (bad JSON, bad CSV quoting, bad gzip or UTF-8), or a
 * record cannot be written in it. `line` is the 1-based line of the input where the bad record
 * starts, when there is one.
 *
 * @example
 * ```ts
 * try { for await (const row of dataset.records()) use(row); }
 * catch (err) { if (err instanceof DatasetFormatError) console.error(`${err.uri} line ${err.line}: ${err.reason}`); }
 * ```
 */
export class DatasetFormatError extends SpotjobsError {
  readonly code = 'DATASET_FORMAT';
  readonly uri: string;
  readonly line: number | undefined;
  readonly reason: string;
  constructor(uri: string, line: number | undefined, reason: string, options?: { cause?: unknown }) {
    super(`${uri}${line === undefined ? '' : ` line ${line}`}: ${reason}`, options);
    this.uri = uri;
    this.line = line;
    this.reason = reason;
  }
}

/** A dataset was used in a way its format or state does not allow (e.g. `data()` of a CSV, `add` after `close`). */
export class DatasetUsageError extends SpotjobsError {
  readonly code = 'DATASET_USAGE';
  readonly uri: string;
  constructor(uri: string, message: string, options?: { cause?: unknown }) {
    super(`${uri}: ${message}`, options);
    this.uri = uri;
  }
}

/**
 * A subtask delivered more often than any retry policy explains: its attempts keep ending
 * without an outcome (the node running it dies, or its handler breaks). It is failed instead
 * of run again, so a subtask that kills its node cannot crash the cluster one node at a time.
 *
 * @example
 * ```ts
 * new SubtaskAbandonedError('abcde:3', 5).message; // 'subtask abcde:3 delivered 5 times without an outcome; not run again'
 * ```
 */
export class SubtaskAbandonedError extends SpotjobsError {
  readonly code = 'SUBTASK_ABANDONED';
  readonly taskId: string;
  readonly deliveries: number;
  constructor(taskId: string, deliveries: number, options?: { cause?: unknown }) {
    super(`subtask ${taskId} delivered ${deliveries} times without an outcome; not run again`, options);
    this.taskId = taskId;
    this.deliveries = deliveries;
  }
}
