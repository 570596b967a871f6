import { Metadata, status as Status } from "@grpc/grpc-js";

import { CAMERA_ERROR_DOMAIN, CLIENT_ERROR_DOMAIN, genericMessageFor } from "./camera.http-status";
import { decodeStatusDetails, type FieldViolation } from "./camera.status-details";

/** gRPC status code names by number (`3` -> `"INVALID_ARGUMENT"`). */
const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Status)
    .filter(([, value]) => typeof value === "number")
    .map(([name, value]) => [value, name]),
);

/** The name of a gRPC status code, e.g. `"DEADLINE_EXCEEDED"`. */
export function codeName(code: Status): string {
  return CODE_NAMES[code] ?? `CODE_${code}`;
}

/** Everything but the code and the message of a {@link CameraGrpcError}. */
export interface CameraGrpcErrorOptions {
  /** The response trailers. */
  metadata?: Metadata;
  /** `google.rpc.ErrorInfo.reason`, e.g. `INVALID_SETTING`, `CAMERA_UNAVAILABLE`, `STORAGE_FULL`. */
  reason?: string;
  /** `google.rpc.ErrorInfo.domain`: `camera-grpc` for the service's errors. */
  domain?: string;
  /** `google.rpc.ErrorInfo.metadata`. */
  errorMetadata?: Record<string, string>;
  /** `google.rpc.BadRequest` field violations (INVALID_ARGUMENT). */
  fieldViolations?: readonly FieldViolation[];
  /** The original error (of @grpc/grpc-js, with its own message). */
  cause?: unknown;
  /** The client's explanation of a failure of TLS or authentication ({@link securityHint}). */
  hint?: string;
}

/** What a client's channel presents, to explain failures of TLS and tokens. */
export interface PresentedSecurity {
  tls: boolean;
  clientCertificate: boolean;
  token: boolean;
}

/**
 * What probably went wrong, for failures of transport security and identity ("" when nothing fits).
 * @grpc/grpc-js reports a refused certificate as UNAVAILABLE with Node's TLS text (kept in `cause`), and
 * the service's UNAUTHENTICATED says nothing that would help a guesser; the client knows what it presented.
 */
export function securityHint(code: Status, libraryText: string, security: PresentedSecurity): string {
  if (code === Status.UNAUTHENTICATED) {
    return security.token
      ? "the service did not accept the token (unknown, revoked or mistyped)"
      : "no token was sent, and the service requires one (the module's token option)";
  }
  if (code === Status.PERMISSION_DENIED && security.token) {
    return "the token's role does not allow this call";
  }
  if (code !== Status.UNAVAILABLE) {
    return "";
  }
  if (/certificate has expired|CERT_HAS_EXPIRED/i.test(libraryText)) {
    return "the service's certificate has expired";
  }
  if (/self[- ]signed certificate|unable to (verify|get local issuer)|altnames|Hostname\/IP does not match/i.test(libraryText)) {
    return "the service's certificate is not signed by the CA given (ca), or not valid for this host name";
  }
  if (/wrong version number|packet length too long|WRONG_VERSION_NUMBER/i.test(libraryText)) {
    return "the service did not answer in TLS: does it serve TLS on this port?";
  }
  const closed = /Failed to connect|Connection dropped|ECONNRESET|Socket closed|socket hang up/i.test(libraryText);
  if (security.tls && /certificate required/i.test(libraryText)) {
    return "the service asks for a client certificate (mutual TLS): give cert and key";
  }
  if (security.tls && (closed || /handshake failure|bad certificate|unknown ca/i.test(libraryText))) {
    return security.clientCertificate
      ? "the service closed the connection: was the client certificate issued by the CA the service trusts?"
      : "the service closed the connection: if it asks for client certificates (mutual TLS), give cert and key";
  }
  if (!security.tls && closed) {
    return "the service closed the connection: if it serves TLS, give its CA certificate (ca)";
  }
  return "";
}

/**
 * A failed call to the camera service. `message` is `"<CODE>: <details>"` (then `"; <hint>"` when the client
 * can explain a failure of TLS or authentication: {@link securityHint}), e.g.
 * `"INVALID_ARGUMENT: exposure_ms=-1.0 must be between 0.01 and 10000"`.
 *
 * `details` is the service's own message when the service vouched for it (a `google.rpc.ErrorInfo`
 * of domain `camera-grpc`), or a message of this package for a request it refused to send.
 * Failures of the gRPC library itself (connection refused, deadline expired, ...) get a generic
 * message for their code, as the REST gateway's responses do, so no internal address reaches a
 * user; the library's own error, with its text, is `cause`.
 */
export class CameraGrpcError extends Error {
  override readonly name = "CameraGrpcError";
  /** The response trailers (the rich details are also decoded into the properties below). */
  readonly metadata: Metadata;
  /** `google.rpc.ErrorInfo.reason` (tells causes that share a code apart), if the error had one. */
  readonly reason?: string;
  /** `google.rpc.ErrorInfo.domain`: `camera-grpc` ({@link CAMERA_ERROR_DOMAIN}) for the service's errors. */
  readonly domain?: string;
  /** `google.rpc.ErrorInfo.metadata` (empty when there was none). */
  readonly errorMetadata: Readonly<Record<string, string>>;
  /** The invalid fields of an INVALID_ARGUMENT (`google.rpc.BadRequest`), e.g. `[{ field: "exposure_ms", ... }]`. */
  readonly fieldViolations: readonly FieldViolation[];
  /**
   * The client's explanation of a failure of TLS or authentication ("" if none): what it presented
   * (no token, a certificate from another CA, no client certificate). In `message`, never in HTTP bodies.
   */
  readonly hint: string;

  constructor(
    /** The gRPC status code (`status.INVALID_ARGUMENT` of @grpc/grpc-js, ...). */
    readonly code: Status,
    /** What went wrong, fit to show (for INVALID_ARGUMENT it names the field and the valid range). */
    readonly details: string,
    options: CameraGrpcErrorOptions = {},
  ) {
    super(
      `${codeName(code)}: ${details}${options.hint ? `; ${options.hint}` : ""}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.metadata = options.metadata ?? new Metadata();
    this.reason = options.reason;
    this.domain = options.domain;
    this.errorMetadata = Object.freeze({ ...options.errorMetadata });
    this.fieldViolations = Object.freeze([...(options.fieldViolations ?? [])]);
    this.hint = options.hint ?? "";
  }

  /** The code's name, e.g. `"DEADLINE_EXCEEDED"`. */
  get codeName(): string {
    return codeName(this.code);
  }

  /**
   * Whether `details` was written for clients: by the camera service (an ErrorInfo with a reason and
   * the domain `camera-grpc`) or by this package's request checks; false for failures of the gRPC
   * library (whose `details` are generic).
   */
  get trusted(): boolean {
    return Boolean(this.reason) && (this.domain === CAMERA_ERROR_DOMAIN || this.domain === CLIENT_ERROR_DOMAIN);
  }

  /**
   * Wrap what @grpc/grpc-js reported (a ServiceError; anything else is UNKNOWN). With the `security`
   * the channel presents, a failure of TLS or authentication gets a {@link hint}.
   */
  static from(error: unknown, security?: PresentedSecurity): CameraGrpcError {
    if (error instanceof CameraGrpcError) {
      return error;
    }
    const candidate = error as { code?: unknown; details?: unknown; metadata?: unknown } | null | undefined;
    const code = typeof candidate?.code === "number" ? (candidate.code as Status) : Status.UNKNOWN;
    const rawDetails = typeof candidate?.details === "string" ? candidate.details : "";
    const metadata = isMetadata(candidate?.metadata) ? candidate.metadata : new Metadata();
    const decoded = decodeStatusDetails(metadata, code, rawDetails);
    const info = decoded?.errorInfo;
    const vouched = Boolean(info?.reason) && info?.domain === CAMERA_ERROR_DOMAIN;
    return new CameraGrpcError(code, vouched ? rawDetails : genericMessageFor(code), {
      metadata,
      reason: info?.reason,
      domain: info?.domain,
      errorMetadata: info?.metadata,
      fieldViolations: decoded?.fieldViolations,
      cause: error,
      hint: security === undefined ? undefined : securityHint(code, rawDetails, security),
    });
  }

  /** An INVALID_ARGUMENT for a request this package refused to send (checked before the call). */
  static invalidRequest(violations: readonly FieldViolation[], reason: string): CameraGrpcError {
    const details = violations.map((violation) => `${violation.field} ${violation.description}`).join("; ");
    return new CameraGrpcError(Status.INVALID_ARGUMENT, details, {
      reason,
      domain: CLIENT_ERROR_DOMAIN,
      fieldViolations: violations,
    });
  }
}

// `instanceof Metadata` fails when the application has a second copy of @grpc/grpc-js (e.g. a linked
// package); a Metadata of any copy has these methods.
function isMetadata(value: unknown): value is Metadata {
  return (
    value instanceof Metadata ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as Metadata).get === "function" &&
      typeof (value as Metadata).getMap === "function")
  );
}
