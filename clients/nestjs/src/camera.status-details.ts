import type { Metadata } from "@grpc/grpc-js";
import { Root, type IMapField, type Type } from "protobufjs";

/** One invalid request field, from the `google.rpc.BadRequest` details of an error. */
export interface FieldViolation {
  /** The field, as the service names it (`exposure_ms`), or as the request object did for errors of this package. */
  readonly field: string;
  /** What is wrong and what is allowed, e.g. `must be between 0.01 and 10000`. */
  readonly description: string;
}

/** `google.rpc.ErrorInfo`: why a call failed, in a form that code can test. */
export interface ErrorInfo {
  /** e.g. `INVALID_SETTING`, `CAMERA_UNAVAILABLE`, `STORAGE_FULL`, `TOO_MANY_SUBSCRIBERS`. */
  readonly reason: string;
  /** `camera-grpc` for errors the camera service reported. */
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The rich error details of a failed call (`grpc-status-details-bin`, a serialised `google.rpc.Status`). */
export interface StatusDetails {
  errorInfo?: ErrorInfo;
  fieldViolations: FieldViolation[];
}

/** The trailer that carries a serialised `google.rpc.Status`. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

// The few google.rpc messages needed (google/rpc/status.proto, google/rpc/error_details.proto), as
// protobufjs reflection; only field numbers and types matter on the wire.
const root = Root.fromJSON({
  nested: {
    google: {
      nested: {
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: "int32", id: 1 },
                message: { type: "string", id: 2 },
                details: { rule: "repeated", type: "AnyDetail", id: 3 },
              },
            },
            // google.protobuf.Any, under another name so that protobufjs does not apply its JSON wrapper.
            AnyDetail: {
              fields: { typeUrl: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } },
            },
            ErrorInfo: {
              fields: {
                reason: { type: "string", id: 1 },
                domain: { type: "string", id: 2 },
                metadata: { keyType: "string", type: "string", id: 3 } as IMapField,
              },
            },
            BadRequest: {
              fields: { fieldViolations: { rule: "repeated", type: "FieldViolation", id: 1 } },
              nested: {
                FieldViolation: {
                  fields: { field: { type: "string", id: 1 }, description: { type: "string", id: 2 } },
                },
              },
            },
          },
        },
      },
    },
  },
});
const StatusType: Type = root.lookupType("google.rpc.Status");
const ErrorInfoType: Type = root.lookupType("google.rpc.ErrorInfo");
const BadRequestType: Type = root.lookupType("google.rpc.BadRequest");

interface DecodedStatus {
  code: number;
  message: string;
  details: Array<{ typeUrl: string; value: Uint8Array }>;
}

/**
 * Decode the `google.rpc.Status` in a call's trailers. Details that contradict the call's code or
 * message are ignored, as grpcio-status does (the REST gateway and the Python client use it).
 * Undefined when there are none or they cannot be decoded.
 */
export function decodeStatusDetails(metadata: Metadata, code: number, message: string): StatusDetails | undefined {
  const [raw] = metadata.get(STATUS_DETAILS_KEY);
  if (!(raw instanceof Uint8Array)) {
    return undefined;
  }
  let status: DecodedStatus;
  try {
    status = StatusType.toObject(StatusType.decode(raw), { defaults: true, arrays: true }) as DecodedStatus;
  } catch {
    return undefined;
  }
  if (status.code !== code || status.message !== message) {
    return undefined;
  }
  const result: StatusDetails = { fieldViolations: [] };
  for (const detail of status.details) {
    const typeName = detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1);
    try {
      if (typeName === "google.rpc.ErrorInfo" && result.errorInfo === undefined) {
        const info = ErrorInfoType.toObject(ErrorInfoType.decode(detail.value), { defaults: true, objects: true });
        result.errorInfo = { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
      } else if (typeName === "google.rpc.BadRequest") {
        const request = BadRequestType.toObject(BadRequestType.decode(detail.value), { defaults: true, arrays: true });
        for (const violation of request.fieldViolations as FieldViolation[]) {
          result.fieldViolations.push({ field: violation.field, description: violation.description });
        }
      }
    } catch {
      // A detail that does not decode is left out; the others still count.
    }
  }
  return result;
}
