/**
 * The error classes of `@spotjobs/compile-worker`'s request path. Each has a stable `code`
 * (the `error.code` of the JSON API) and an HTTP status, so the HTTP server and the Lambda
 * handler answer every failure the same way. Backend failures stay `@spotjobs/core` errors.
 *
 * @example
 * ```ts
 * throw new InvalidRequestError([{ field: 'version', reason: 'is required' }]);
 * ```
 */
export abstract class CompileRequestError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One reason a request field was refused: which field, and why (a sentence without the field name). */
export interface FieldProblem {
  readonly field: string;
  readonly reason: string;
}

/**
 * A request field breaks Gentoo's grammar or the API's shape: HTTP 400. Carries every problem
 * found, so a client fixes them in one go; `field` is the first one's.
 *
 * @example
 * ```ts
 * new InvalidRequestError([{ field: 'useflag', reason: '"a;b" contains ";"' }]).message; // 'useflag: "a;b" contains ";"'
 * ```
 */
export class InvalidRequestError extends CompileRequestError {
  readonly code = 'INVALID_REQUEST';
  readonly status = 400;
  readonly problems: readonly FieldProblem[];
  readonly field: string | undefined;
  constructor(problems: readonly FieldProblem[], options?: { cause?: unknown }) {
    super(problems.map((p) => `${p.field}: ${p.reason}`).join('; ') || 'invalid request', options);
    this.problems = problems;
    this.field = problems[0]?.field;
  }
}

/** Credentials are missing where they are needed, or wrong: HTTP 401. */
export class UnauthorizedError extends CompileRequestError {
  readonly code = 'UNAUTHORIZED';
  readonly status = 401;
}

/** No build with that id, or no route with that path: HTTP 404. */
export class BuildNotFoundError extends CompileRequestError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
}

/** The build exists but has no artifact (or log) yet: HTTP 409. */
export class BuildNotReadyError extends CompileRequestError {
  readonly code = 'NOT_READY';
  readonly status = 409;
  readonly state: string;
  constructor(message: string, state: string, options?: { cause?: unknown }) {
    super(message, options);
    this.state = state;
  }
}

/** The path exists, the method does not: HTTP 405 (with `Allow`). */
export class MethodNotAllowedError extends CompileRequestError {
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly status = 405;
  readonly allow: readonly string[];
  constructor(allow: readonly string[], options?: { cause?: unknown }) {
    super(`method not allowed; use ${allow.join(', ')}`, options);
    this.allow = allow;
  }
}

/** The request body is larger than the API accepts: HTTP 413. */
export class PayloadTooLargeError extends CompileRequestError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
}
