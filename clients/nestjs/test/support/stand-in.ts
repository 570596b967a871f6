// A stand-in camera service for tests that need what the real one cannot be made to do on demand:
// go away and come back on the same port, or fail with chosen rich error details. It serves the
// bundled contract (dist/proto) with @grpc/grpc-js; each test gives the handlers it needs.
import { Metadata, Server, ServerCredentials, status, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from "@grpc/grpc-js";
import { Root, type IMapField } from "protobufjs";

import { BUNDLED_PROTO_ROOT, CAMERA_PROTO_FILE, CAMERA_PROTO_LOADER_OPTIONS } from "../../dist";

const definition = loadSync(CAMERA_PROTO_FILE, { ...CAMERA_PROTO_LOADER_OPTIONS, includeDirs: [BUNDLED_PROTO_ROOT] });
const cameraV1 = (loadPackageDefinition(definition).camera as GrpcObject).v1 as GrpcObject;
const CameraService = cameraV1.CameraService as ServiceClientConstructor;

export const SETTINGS = {
  exposureMs: 2,
  gainDb: 0,
  width: 2448,
  height: 2048,
  pixelFormat: "PIXEL_FORMAT_MONO8",
  connected: true,
};

export class StandIn {
  private server?: Server;

  constructor(private readonly handlers: UntypedServiceImplementation) {}

  /** Serve on 127.0.0.1:`port` (0: any free port); resolves to the port. */
  async start(port = 0): Promise<number> {
    const server = new Server();
    server.addService(CameraService.service, this.handlers);
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, actual) =>
        error ? reject(error) : resolve(actual),
      ),
    );
    this.server = server;
    return bound;
  }

  /** Stop at once: open calls fail, connections close. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

// google.rpc.Status, ErrorInfo and BadRequest, to build grpc-status-details-bin as the service does.
const rpc = Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } } } },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: "int32", id: 1 },
                message: { type: "string", id: 2 },
                details: { rule: "repeated", type: "google.protobuf.Any", id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: "string", id: 1 },
                domain: { type: "string", id: 2 },
                metadata: { keyType: "string", type: "string", id: 3 } as IMapField,
              },
            },
            BadRequest: {
              fields: { field_violations: { rule: "repeated", type: "FieldViolation", id: 1 } },
              nested: { FieldViolation: { fields: { field: { type: "string", id: 1 }, description: { type: "string", id: 2 } } } },
            },
          },
        },
      },
    },
  },
});

function any(typeName: string, message: Record<string, unknown>): { type_url: string; value: Uint8Array } {
  const type = rpc.lookupType(typeName);
  return { type_url: `type.googleapis.com/${typeName}`, value: type.encode(type.fromObject(message)).finish() };
}

/** A ServiceError as the camera service sends it: code, message and google.rpc details in the trailers. */
export function richError(
  code: status,
  message: string,
  details: { reason?: string; domain?: string; violations?: Array<[string, string]>; statusCode?: status } = {},
): Partial<ServiceError> {
  const items = [];
  if (details.violations) {
    items.push(
      any("google.rpc.BadRequest", {
        field_violations: details.violations.map(([field, description]) => ({ field, description })),
      }),
    );
  }
  if (details.reason !== undefined) {
    items.push(any("google.rpc.ErrorInfo", { reason: details.reason, domain: details.domain ?? "camera-grpc" }));
  }
  const Status = rpc.lookupType("google.rpc.Status");
  const bytes = Status.encode(Status.fromObject({ code: details.statusCode ?? code, message, details: items })).finish();
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(bytes));
  return { code, details: message, metadata };
}
