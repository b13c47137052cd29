import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { QueueMessage } from '../ports/queue.ts';
import type { JobDefinition } from './job-definition.ts';

/** How message bodies find their handler, as compiled from the runner's options. */
export type JobRouting =
  | { readonly kind: 'typed'; readonly routes: ReadonlyMap<string, JobDefinition> }
  | { readonly kind: 'single'; readonly type: string; readonly definition: JobDefinition };

export type DecodedJob =
  | { readonly ok: true; readonly type: string; readonly value: unknown; readonly definition: JobDefinition }
  | { readonly ok: false; readonly type: string | undefined; readonly reason: string };

/** The field of a JSON body that names its route. */
export const typeField = 'type';

const maxIssuesInReason = 5;

/**
 * Turns a raw body into a typed job, or into the reason it is poison. Every check runs
 * before any handler, so a handler only ever sees a value its schema accepted. A schema
 * that throws (a bug, not bad input) rejects instead, and the runner retries the message.
 *
 * @example
 * ```ts
 * const decoded = await decodeJob(message, routing, 1_048_576);
 * if (!decoded.ok) await queue.deadLetter(message, decoded.reason);
 * ```
 */
export async function decodeJob(
  message: QueueMessage,
  routing: JobRouting,
  maxBodyBytes: number,
): Promise<DecodedJob> {
  const bytes = Buffer.byteLength(message.body, 'utf8');
  if (bytes > maxBodyBytes) {
    return { ok: false, type: undefined, reason: `body too large: ${bytes} bytes, limit ${maxBodyBytes}` };
  }
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch (error) {
    return { ok: false, type: undefined, reason: `malformed JSON: ${(error as Error).message}` };
  }

  let type: string;
  let definition: JobDefinition;
  if (routing.kind === 'single') {
    type = routing.type;
    definition = routing.definition;
  } else {
    const found = route(body, routing.routes);
    if (!found.ok) return found;
    type = found.type;
    definition = found.definition;
  }

  const result = await definition.schema['~standard'].validate(body);
  if (result.issues) {
    return {
      ok: false,
      type,
      reason: `schema violation for type "${type}": ${describeIssues(result.issues)}`,
    };
  }
  return { ok: true, type, value: result.value, definition };
}

function route(
  body: unknown,
  routes: ReadonlyMap<string, JobDefinition>,
): { ok: true; type: string; definition: JobDefinition } | { ok: false; type: undefined; reason: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, type: undefined, reason: `body is not a JSON object with a "${typeField}" field` };
  }
  const type = (body as Record<string, unknown>)[typeField];
  if (typeof type !== 'string') {
    return { ok: false, type: undefined, reason: `missing or non-string "${typeField}" field` };
  }
  const definition = routes.get(type);
  if (!definition) {
    // The unknown type stays out of `type`: it would be an unbounded metrics label.
    return { ok: false, type: undefined, reason: `unknown job type "${type.slice(0, 100)}"` };
  }
  return { ok: true, type, definition };
}

function describeIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  const shown = issues.slice(0, maxIssuesInReason).map((issue) => {
    const path = (issue.path ?? []).map((segment) =>
      String(typeof segment === 'object' ? segment.key : segment),
    );
    return path.length > 0 ? `${path.join('.')}: ${issue.message}` : issue.message;
  });
  const more = issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')} (and ${more} more)` : shown.join('; ');
}
