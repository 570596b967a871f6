import { Metadata, status as Status } from "@grpc/grpc-js";

/** gRPC status code names by number (`3` -> `"INVALID_ARGUMENT"`). */
const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Status)
    .filter(([, value]) => typeof value === "number")
    .map(([name, value]) => [value, name]),
);

/**
 * A failed call to the camera service, with the gRPC status code and the service's message.
 * `message` is `"<CODE>: <details>"`, e.g. `"INVALID_ARGUMENT: exposure_ms must be ..."`.
 */
export class CameraGrpcError extends Error {
  override readonly name = "CameraGrpcError";

  constructor(
    /** The gRPC status code (`status.INVALID_ARGUMENT` of @grpc/grpc-js, ...). */
    readonly code: Status,
    /** The service's message (for INVALID_ARGUMENT it names the field and the valid range). */
    readonly details: string,
    /** The response trailers (rich error details are in `grpc-status-details-bin`). */
    readonly metadata: Metadata = new Metadata(),
    options?: { cause?: unknown },
  ) {
    super(`${CODE_NAMES[code] ?? `CODE_${code}`}: ${details}`, options);
  }

  /** The code's name, e.g. `"DEADLINE_EXCEEDED"`. */
  get codeName(): string {
    return CODE_NAMES[this.code] ?? `CODE_${this.code}`;
  }

  /** Wrap what @grpc/grpc-js reported (a ServiceError, or anything else as UNKNOWN). */
  static from(error: unknown): CameraGrpcError {
    if (error instanceof CameraGrpcError) {
      return error;
    }
    const candidate = error as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown };
    const code = typeof candidate?.code === "number" ? (candidate.code as Status) : Status.UNKNOWN;
    const details =
      typeof candidate?.details === "string"
        ? candidate.details
        : typeof candidate?.message === "string"
          ? candidate.message
          : String(error);
    const metadata = candidate?.metadata instanceof Metadata ? candidate.metadata : new Metadata();
    return new CameraGrpcError(code, details, metadata, { cause: error });
  }
}
