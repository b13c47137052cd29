import { type BlobStore, type Clock, type Logger, silentLogger, systemClock } from '@spotjobs/core';
import type { BuildService } from '../build/build-service.ts';
import { BuildNotFoundError, MethodNotAllowedError } from '../errors.ts';
import type { ApiContext } from './api-context.ts';
import type { ApiRequest, ApiResponse } from './api-request.ts';
import { ApiKeyVerifier, type Authentication, presentedApiKey } from './auth.ts';
import { getArtifactLink, getBuild, getLogLink, submitBuild } from './builds-endpoints.ts';
import { handleCompatPackage } from './compat-endpoint.ts';
import { compatErrorResponse, errorResponse } from './error-responses.ts';

export interface CompileApiOptions {
  readonly builds: BuildService;
  /** The build BlobStore; artifacts and logs leave it only as presigned GET URLs. */
  readonly blobs: BlobStore;
  /** Keys that may submit builds (compared in constant time). */
  readonly apiKeys: readonly string[];
  /** More such keys, given by their SHA-256 digests (hex). */
  readonly apiKeySha256?: readonly string[];
  /** Reads of existing builds without credentials (default true: the compat client has none). */
  readonly openReads?: boolean;
  /** The stage prefix the compat path carries (`LATEST` → `/LATEST/package`); default `LATEST`. */
  readonly stage?: string;
  /** Lifetime of presigned links, seconds (default 900). */
  readonly presignSeconds?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * The compile farm's request API, transport-free: the local HTTP server and the Lambda handler
 * both turn their requests into an `ApiRequest` and send back the `ApiResponse`, so both serve
 * exactly the same API.
 *
 * | route | |
 * |---|---|
 * | `GET /LATEST/package?package&version&useflag` (also `/package`) | **(compat)** WAIT / SUCCESS / FAILED |
 * | `POST /v1/builds` | submit (authenticated) |
 * | `GET /v1/builds/<id>` | status |
 * | `GET /v1/builds/<id>/artifact` | presigned download link, sha256, size |
 * | `GET /v1/builds/<id>/log` | presigned log link |
 *
 * Credentials: `x-api-key: <key>` or `Authorization: Bearer <key>`, or a principal the platform
 * established (`ApiRequest.platformPrincipal`: API Gateway IAM auth or an authorizer), which takes
 * precedence over any key header. A presented key that matches none is refused (401) everywhere.
 *
 * @example
 * ```ts
 * const api = new CompileApi({ builds, blobs, apiKeys: config.api.apiKeys });
 * const response = await api.handle(request);
 * ```
 */
export class CompileApi {
  readonly #ctx: ApiContext;
  readonly #keys: ApiKeyVerifier;
  readonly #stagePrefix: string;

  constructor(options: CompileApiOptions) {
    this.#keys = new ApiKeyVerifier(options.apiKeys, options.apiKeySha256);
    this.#stagePrefix = `/${options.stage ?? 'LATEST'}`;
    this.#ctx = {
      builds: options.builds,
      blobs: options.blobs,
      presignSeconds: options.presignSeconds ?? 900,
      openReads: options.openReads ?? true,
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger,
    };
  }

  /** Answers one request. Never rejects: every failure becomes an error response. */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    const path = this.#routePath(req.path);
    const compat = path === '/package';
    try {
      const auth = this.#authenticate(req);
      if (compat) return await handleCompatPackage(req, this.#ctx, auth);
      return await this.#cleanRoute(req, path, auth);
    } catch (err) {
      return compat ? compatErrorResponse(err, this.#ctx.logger) : errorResponse(err, this.#ctx.logger);
    }
  }

  async #cleanRoute(req: ApiRequest, path: string, auth: Authentication): Promise<ApiResponse> {
    const segments = path.split('/').slice(1); // '/v1/builds/x' → ['v1', 'builds', 'x']
    if (segments[0] !== 'v1' || segments[1] !== 'builds' || segments.length > 4)
      throw new BuildNotFoundError(`no route ${path}`);
    const [, , id, sub] = segments;
    const only = (method: string) => {
      if (req.method !== method) throw new MethodNotAllowedError([method]);
    };
    if (id === undefined) {
      only('POST');
      return submitBuild(req, this.#ctx, auth);
    }
    only('GET');
    if (sub === undefined) return getBuild(req, this.#ctx, auth, id);
    if (sub === 'artifact') return getArtifactLink(req, this.#ctx, auth, id);
    if (sub === 'log') return getLogLink(req, this.#ctx, auth, id);
    throw new BuildNotFoundError(`no route ${path}`);
  }

  /** The path without the stage prefix and a trailing slash. */
  #routePath(raw: string): string {
    let path = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
    if (path.startsWith(`${this.#stagePrefix}/`)) path = path.slice(this.#stagePrefix.length);
    return path;
  }

  #authenticate(req: ApiRequest): Authentication {
    if (req.platformPrincipal) return { status: 'authenticated', principal: req.platformPrincipal };
    return this.#keys.verify(presentedApiKey(req.headers));
  }
}
