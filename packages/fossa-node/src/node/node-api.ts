import type { JsonObject, JsonValue } from '@spotjobs/core';
import type { FossaNode } from './fossa-node.ts';

/** Fossa's API base path (compat). */
export const apiBase = '/api/0.01/';

/** A request as the API reads it. */
export interface NodeApiRequest {
  readonly method: string;
  /** The path, not yet percent-decoded, without the query. */
  readonly path: string;
  readonly contentType: string | undefined;
  /** The base URL clients reached this node at (`http://host:port`), for links. */
  readonly baseUrl: string;
  readonly body: string | undefined;
  readonly signal: AbortSignal;
}

export interface NodeApiResponse {
  readonly status: number;
  readonly body: JsonValue;
}

const FULL = { error: { message: "Node at full capacity and can't accept new tasks" } };
const MAX_TASK_ID_LENGTH = 512;

/** Fossa's envelope for HTTP-level errors (`{"msg": "<HTTP name>"}`), with the reason beside it. */
function httpError(status: number, name: string, reason?: string): NodeApiResponse {
  const body: JsonObject = { msg: name };
  if (reason) body.error = { message: reason };
  return { status, body };
}

/**
 * Fossa's HTTP API on a node, as a function of the request (the server does the I/O):
 * `GET /api/0.01/` → `{"hello":"world"}`; `POST /api/0.01/task` → 200 with the task link,
 * 400 for a bad spec, 412 for a class not accepted, 503 when full (checked first, as Fossa
 * does); `GET /api/0.01/task/<id>` → the task summary from the Table (any node's task) or 404
 * `{"message":"task unknown"}`; `GET /api/0.01/node_info`. A body that is not a JSON object
 * sent as `application/json` gets a 4xx that says why.
 *
 * @example
 * ```ts
 * const response = await handleNodeApi(node, { method: 'GET', path: '/api/0.01/', contentType: undefined, baseUrl, body: undefined, signal });
 * response.body; // { hello: 'world' }
 * ```
 */
export async function handleNodeApi(node: FossaNode, request: NodeApiRequest): Promise<NodeApiResponse> {
  const { method, path } = request;
  if (path === apiBase || path === apiBase.slice(0, -1)) {
    if (method !== 'GET' && method !== 'HEAD') return httpError(405, 'Method Not Allowed');
    return { status: 200, body: { hello: 'world' } };
  }
  if (path === `${apiBase}node_info`) {
    if (method !== 'GET' && method !== 'HEAD') return httpError(405, 'Method Not Allowed');
    return { status: 200, body: node.nodeInfo() };
  }
  if (path === `${apiBase}task`) {
    if (method !== 'POST') return httpError(405, 'Method Not Allowed');
    return submitTask(node, request);
  }
  if (path.startsWith(`${apiBase}task/`)) {
    if (method !== 'GET' && method !== 'HEAD') return httpError(405, 'Method Not Allowed');
    let taskId: string;
    try {
      taskId = decodeURIComponent(path.slice(`${apiBase}task/`.length));
    } catch {
      return httpError(400, 'Bad Request', 'the task id is not valid percent-encoding');
    }
    if (taskId === '' || taskId.length > MAX_TASK_ID_LENGTH || [...taskId].some(notInTaskId))
      return { status: 404, body: { message: 'task unknown' } };
    const summary = await node.task(taskId, request.signal);
    return summary ? { status: 200, body: summary } : { status: 404, body: { message: 'task unknown' } };
  }
  return httpError(404, 'Not Found');
}

/** Control characters and slashes never occur in task ids. */
function notInTaskId(char: string): boolean {
  return char === '/' || (char.codePointAt(0) ?? 0) < 0x20;
}

async function submitTask(node: FossaNode, request: NodeApiRequest): Promise<NodeApiResponse> {
  if (node.available === 0) return { status: 503, body: FULL };
  const mediaType = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) {
    return httpError(
      415,
      'Unsupported Media Type',
      `send the task as JSON with Content-Type: application/json (got ${mediaType || 'none'})`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(request.body ?? '');
  } catch (err) {
    return httpError(400, 'Bad Request', `the body is not valid JSON: ${(err as Error).message}`);
  }
  const outcome = await node.submit(body, request.signal);
  switch (outcome.kind) {
    case 'full':
      return { status: 503, body: FULL };
    case 'invalid':
      return { status: 400, body: { error: { message: outcome.problems.join('; ') } } };
    case 'not-accepted':
      return { status: 412, body: { error: { message: outcome.message } } };
    case 'accepted':
      return {
        status: 200,
        body: {
          _metadata: { links: { task: `${request.baseUrl}${apiBase}task/${outcome.taskId}` } },
          governor_accepted_ident: `${node.nodeId}:${outcome.taskId}`,
          task_id: outcome.taskId,
        },
      };
  }
}
