import { status as Status } from "@grpc/grpc-js";

/**
 * gRPC status -> HTTP status, exactly as the service's REST gateway maps them
 * (`camera_grpc/gateway/errors.py`, `_HTTP_STATUS`; tests/test_nestjs_client.py compares the two):
 *
 * | gRPC code                          | HTTP |
 * |------------------------------------|------|
 * | INVALID_ARGUMENT, OUT_OF_RANGE      | 422  |
 * | NOT_FOUND                          | 404  |
 * | ALREADY_EXISTS                     | 409  |
 * | ABORTED                            | 409; 412 for a conditional request (If-Match) |
 * | PERMISSION_DENIED                  | 403  |
 * | UNAUTHENTICATED                    | 401  |
 * | DEADLINE_EXCEEDED                  | 504  |
 * | UNAVAILABLE, CANCELLED             | 503  |
 * | RESOURCE_EXHAUSTED                 | 503; 507 with the ErrorInfo reason STORAGE_FULL |
 * | FAILED_PRECONDITION                | 503; 409 with the ErrorInfo reason FEATURE_UNSUPPORTED, TRIGGER_MODE or RECORDING_STATE |
 * | UNIMPLEMENTED                      | 501  |
 * | INTERNAL, UNKNOWN, DATA_LOSS, ...   | 500  |
 */
export const HTTP_STATUS_BY_GRPC_CODE: Readonly<Partial<Record<Status, number>>> = Object.freeze({
  [Status.INVALID_ARGUMENT]: 422,
  [Status.OUT_OF_RANGE]: 422,
  [Status.NOT_FOUND]: 404,
  [Status.ALREADY_EXISTS]: 409,
  [Status.ABORTED]: 409,
  [Status.PERMISSION_DENIED]: 403,
  [Status.UNAUTHENTICATED]: 401,
  [Status.DEADLINE_EXCEEDED]: 504,
  [Status.UNAVAILABLE]: 503,
  [Status.CANCELLED]: 503,
  [Status.RESOURCE_EXHAUSTED]: 503,
  [Status.FAILED_PRECONDITION]: 503,
  [Status.UNIMPLEMENTED]: 501,
});

/** `google.rpc.ErrorInfo.domain` of the errors the camera service reports. */
export const CAMERA_ERROR_DOMAIN = "camera-grpc";
/** `google.rpc.ErrorInfo.domain` of the errors this package raises itself (a request it refused to send). */
export const CLIENT_ERROR_DOMAIN = "@camera-grpc/nestjs";
/** ErrorInfo reason of a full disk (RESOURCE_EXHAUSTED -> 507 instead of 503). */
export const STORAGE_FULL = "STORAGE_FULL";
/**
 * ErrorInfo reason of a request that sets a feature the camera does not have (FAILED_PRECONDITION -> 409
 * instead of 503: the request conflicts with the camera, and retrying will not help).
 */
export const FEATURE_UNSUPPORTED = "FEATURE_UNSUPPORTED";
/**
 * ErrorInfo reason of a software trigger asked for while the camera is not in software-trigger mode
 * (FAILED_PRECONDITION -> 409 instead of 503; the message names the mode).
 */
export const TRIGGER_MODE = "TRIGGER_MODE";
/**
 * ErrorInfo reason of a request that conflicts with a recording's state (FAILED_PRECONDITION -> 409 instead of
 * 503): a recording runs already, or a running one is to be deleted.
 */
export const RECORDING_STATE = "RECORDING_STATE";
/** FAILED_PRECONDITION reasons that are a conflict with the camera's configuration or a recording (409), not an outage (503). */
const CONFLICT_REASONS: ReadonlySet<string> = new Set([FEATURE_UNSUPPORTED, TRIGGER_MODE, RECORDING_STATE]);
/** Seconds a client should wait before retrying a 503 (the `Retry-After` header). */
export const RETRY_AFTER_S = 1;

/**
 * What a person is told when the message did not come from the service (a failure of the gRPC
 * library, e.g. `connect ECONNREFUSED 127.0.0.1:50051`): one text per HTTP status, as the REST gateway.
 */
export const GENERIC_MESSAGES: Readonly<Record<number, string>> = Object.freeze({
  404: "not found",
  409: "conflict",
  412: "the settings changed since that revision; read them again",
  401: "not authenticated",
  403: "not allowed",
  422: "invalid request",
  500: "internal error; see the camera service's log",
  501: "not supported by the camera service",
  503: "the camera service is unavailable; retry later",
  504: "the camera service did not answer in time",
  507: "no space left for captures",
});

/**
 * The HTTP status for a gRPC code and the `ErrorInfo` reason the camera service gave (if any);
 * `conditional`: the HTTP request was conditional (`If-Match` with a settings revision), so an ABORTED
 * update is 412 Precondition Failed rather than 409.
 */
export function httpStatusFor(code: Status, reason?: string, conditional = false): number {
  if (code === Status.RESOURCE_EXHAUSTED && reason === STORAGE_FULL) {
    return 507;
  }
  if (code === Status.FAILED_PRECONDITION && reason !== undefined && CONFLICT_REASONS.has(reason)) {
    return 409;
  }
  if (code === Status.ABORTED && conditional) {
    return 412;
  }
  return HTTP_STATUS_BY_GRPC_CODE[code] ?? 500;
}

/** The generic message for a gRPC code (the one for its HTTP status). */
export function genericMessageFor(code: Status, reason?: string, conditional = false): string {
  return GENERIC_MESSAGES[httpStatusFor(code, reason, conditional)] ?? GENERIC_MESSAGES[500];
}
