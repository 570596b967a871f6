import {
  Catch,
  HttpException,
  Inject,
  Logger,
  Optional,
  type ArgumentsHost,
  type ExceptionFilter,
} from "@nestjs/common";
import { HttpAdapterHost } from "@nestjs/core";

import { CameraGrpcError } from "./camera.errors";
import { CAMERA_ERROR_DOMAIN, GENERIC_MESSAGES, RETRY_AFTER_S, httpStatusFor } from "./camera.http-status";

/** The body of an error response other than 422 (the REST gateway's `ErrorBody`). */
export interface CameraErrorBody {
  /** What went wrong, for people: the service's message, or a generic one (never the gRPC library's text). */
  detail: string;
  /** gRPC status of the failed call, e.g. `UNAVAILABLE`. */
  code: string | null;
  /** `google.rpc.ErrorInfo` reason when the service reported one, e.g. `CAMERA_UNAVAILABLE`. */
  reason: string | null;
}

/** One problem with the request, in FastAPI's validation shape (the REST gateway's `ValidationIssue`). */
export interface ValidationIssue {
  /** `out_of_range` (a value outside the camera's range) or `value_error`. */
  type: string;
  /** Where: `body` or `query`, then the field. */
  loc: Array<string | number>;
  /** What is wrong and what is allowed, e.g. `exposure must be between 0.01 and 10000 (milliseconds)`. */
  msg: string;
}

/** The body of a 422 (the REST gateway's `ValidationErrorBody`). */
export interface ValidationErrorBody {
  detail: ValidationIssue[];
}

/** An HTTP response for a failed camera call. */
export interface CameraHttpError {
  status: number;
  body: CameraErrorBody | ValidationErrorBody;
  /** `Retry-After` for a 503. */
  headers: Record<string, string>;
}

/**
 * gRPC field name -> name in HTTP error bodies and the unit shown with a valid range: the legacy
 * API's names (`exposure`, `gain`), as the REST gateway's `API_FIELDS`.
 */
export const LEGACY_API_FIELDS: Readonly<Record<string, { name: string; unit: string }>> = Object.freeze({
  exposure_ms: { name: "exposure", unit: "milliseconds" },
  gain_db: { name: "gain", unit: "dB" },
});

export interface CameraHttpErrorOptions {
  /** Where the request's fields came from: `body` (POST, PUT, PATCH; the default) or `query`. */
  location?: string;
  /** Field names (and units) shown in 422 bodies; default {@link LEGACY_API_FIELDS}. */
  fields?: Readonly<Record<string, { name: string; unit: string }>>;
  /** The HTTP request was conditional (`If-Match` with a settings revision): ABORTED is 412, not 409. */
  conditional?: boolean;
}

/**
 * The HTTP status, body and headers for a failed camera call, exactly as the service's REST gateway
 * answers (`rpc_error_response` in camera_grpc/gateway/errors.py): the status from the gRPC code and
 * the ErrorInfo reason (RESOURCE_EXHAUSTED is 507 for STORAGE_FULL, FAILED_PRECONDITION 409 for
 * FEATURE_UNSUPPORTED and TRIGGER_MODE; ABORTED 412 for a conditional request), the service's message only when
 * it vouched for it and the status is not 500, 422 in FastAPI's validation shape naming the fields.
 */
export function cameraHttpError(error: unknown, options: CameraHttpErrorOptions = {}): CameraHttpError {
  const failure = CameraGrpcError.from(error);
  // The reason counts when the service reported it (as the gateway's CameraRpcError.from_service).
  const reason = failure.domain === CAMERA_ERROR_DOMAIN ? failure.reason : undefined;
  const status = httpStatusFor(failure.code, reason, options.conditional ?? false);
  const trusted = failure.trusted && status !== 500;
  const message = trusted ? failure.details : (GENERIC_MESSAGES[status] ?? GENERIC_MESSAGES[500]);
  const location = options.location ?? "body";
  if (status === 422) {
    const fields = options.fields ?? LEGACY_API_FIELDS;
    let issues = failure.fieldViolations.map(({ field, description }): ValidationIssue => {
      const known = Object.hasOwn(fields, field) ? fields[field] : undefined;
      const name = known?.name ?? field;
      const between = description.includes("between");
      // Services since the units change name the unit themselves (`... 10000 (milliseconds)`); older ones do not.
      const missingUnit = known?.unit && between && !description.includes(`(${known.unit})`);
      const unit = missingUnit ? ` (${known.unit})` : "";
      // A field path (roi.width) is a path in the JSON body, as FastAPI writes it: ["body", "roi", "width"].
      const loc = [location, ...name.split(".")];
      return { type: between ? "out_of_range" : "value_error", loc, msg: `${name} ${description}${unit}` };
    });
    if (issues.length === 0) {
      issues = [{ type: "value_error", loc: [location], msg: message }];
    }
    return { status, body: { detail: issues }, headers: {} };
  }
  const headers: Record<string, string> = status === 503 ? { "Retry-After": String(RETRY_AFTER_S) } : {};
  const body: CameraErrorBody = {
    detail: message,
    code: failure.codeName,
    reason: trusted ? (failure.reason ?? null) : null,
  };
  return { status, body, headers };
}

/**
 * A Nest HttpException for a failed camera call (status and body as {@link cameraHttpError}); the
 * CameraGrpcError is its `cause`. Throw it from a controller, or let {@link CameraGrpcExceptionFilter}
 * do it for every CameraGrpcError (the filter also sends `Retry-After` with a 503).
 */
export function toHttpException(error: unknown, options?: CameraHttpErrorOptions): HttpException {
  const { status, body } = cameraHttpError(error, options);
  return new HttpException(body, status, { cause: CameraGrpcError.from(error) });
}

/** `body` for the methods that carry one, `query` for the others (as the REST gateway). */
export function requestLocation(method: string | undefined): string {
  return ["POST", "PUT", "PATCH"].includes((method ?? "").toUpperCase()) ? "body" : "query";
}

/**
 * Answers every {@link CameraGrpcError} a handler throws (or rejects with) with the REST gateway's
 * status and body, so that a camera that is not connected is a 503, not a 500. Register it for the
 * whole application:
 *
 * ```ts
 * providers: [{ provide: APP_FILTER, useClass: CameraGrpcExceptionFilter }]
 * ```
 *
 * or `app.useGlobalFilters(new CameraGrpcExceptionFilter(app.get(HttpAdapterHost)))`, or
 * `@UseFilters(CameraGrpcExceptionFilter)` on a controller. HTTP only; errors of a Server-Sent Events
 * stream that has started are not exceptions any more: use `toSseEvents()`.
 */
@Catch(CameraGrpcError)
export class CameraGrpcExceptionFilter implements ExceptionFilter<CameraGrpcError> {
  private readonly logger = new Logger("CameraGrpcExceptionFilter");

  constructor(@Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost) {}

  catch(error: CameraGrpcError, host: ArgumentsHost): void {
    if (host.getType() !== "http") {
      throw error;
    }
    const http = host.switchToHttp();
    const request = http.getRequest<{ method?: string; url?: string }>();
    const response = http.getResponse();
    const { status, body, headers } = cameraHttpError(error, { location: requestLocation(request?.method) });
    if (status === 500) {
      const cause = error.cause as { details?: unknown; message?: unknown } | undefined;
      const raw = typeof cause?.details === "string" ? cause.details : (cause?.message ?? error.details);
      this.logger.error(`${request?.method} ${request?.url}: gRPC ${error.codeName}: ${String(raw)}`);
    }
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter !== undefined && adapter !== null) {
      if (adapter.isHeadersSent(response)) {
        adapter.end(response);
        return;
      }
      for (const [name, value] of Object.entries(headers)) {
        adapter.setHeader(response, name, value);
      }
      adapter.reply(response, body, status);
      return;
    }
    replyWithoutAdapter(response, status, body, headers);
  }
}

/** Express (`status().json()`) or Fastify (`code().send()`), for a filter made without the adapter host. */
function replyWithoutAdapter(response: any, status: number, body: unknown, headers: Record<string, string>): void {
  if (response?.headersSent === true || response?.sent === true) {
    response.end?.();
    return;
  }
  for (const [name, value] of Object.entries(headers)) {
    (response.setHeader ?? response.header)?.call(response, name, value);
  }
  if (typeof response.status === "function" && typeof response.json === "function") {
    response.status(status).json(body);
  } else if (typeof response.code === "function" && typeof response.send === "function") {
    response.code(status).send(body);
  } else {
    throw new Error("CameraGrpcExceptionFilter: unknown HTTP platform; construct it with the HttpAdapterHost");
  }
}
