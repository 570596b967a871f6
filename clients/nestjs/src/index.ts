export { CameraClient, type CameraCallOptions } from "./camera.client";
export { CameraGrpcError } from "./camera.errors";
export { CameraModule } from "./camera.module";
export {
  BUNDLED_PROTO_ROOT,
  CAMERA_GRPC_CLIENT,
  CAMERA_MODULE_OPTIONS,
  CAMERA_PROTO_FILE,
  CAMERA_PROTO_LOADER_OPTIONS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  grpcClientOptions,
  type CameraModuleAsyncOptions,
  type CameraModuleOptions,
} from "./camera.options";
export * from "./generated/camera/v1/camera";
export type { Timestamp } from "./generated/google/protobuf/timestamp";
