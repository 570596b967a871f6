export { CameraClient, type CameraCallOptions, type SettingsCallOptions } from "./camera.client";
export {
  CameraCredentialsError,
  channelSecurity,
  isLoopbackTarget,
  readPem,
  type CameraChannelSecurity,
  type CameraSecurityOptions,
  type PemSource,
} from "./camera.credentials";
export {
  CameraGrpcError,
  codeName,
  securityHint,
  type CameraGrpcErrorOptions,
  type PresentedSecurity,
} from "./camera.errors";
export {
  CameraGrpcExceptionFilter,
  LEGACY_API_FIELDS,
  cameraHttpError,
  requestLocation,
  toHttpException,
  type CameraErrorBody,
  type CameraHttpError,
  type CameraHttpErrorOptions,
  type ValidationErrorBody,
  type ValidationIssue,
} from "./camera.http";
export {
  CAMERA_ERROR_DOMAIN,
  CLIENT_ERROR_DOMAIN,
  FEATURE_UNSUPPORTED,
  GENERIC_MESSAGES,
  HTTP_STATUS_BY_GRPC_CODE,
  RETRY_AFTER_S,
  STORAGE_FULL,
  TRIGGER_MODE,
  genericMessageFor,
  httpStatusFor,
} from "./camera.http-status";
export { CameraModule } from "./camera.module";
export {
  BUNDLED_PROTO_ROOT,
  CAMERA_CHANNEL_SECURITY,
  CAMERA_GRPC_CLIENT,
  CAMERA_MODULE_OPTIONS,
  CAMERA_PROTO_FILE,
  CAMERA_PROTO_LOADER_OPTIONS,
  DEFAULT_CHANNEL_OPTIONS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  grpcClientOptions,
  type CameraModuleAsyncOptions,
  type CameraModuleOptions,
} from "./camera.options";
export { PEER_PACKAGES, duplicatePeers } from "./camera.peers";
export { INVALID_REQUEST } from "./camera.requests";
export {
  PRESET_COLLECTION,
  presetName,
  settingsPaths,
  snakeCase,
  updateSettingsWire,
  type SettingsPatch,
  type UpdateSettingsWire,
} from "./camera.settings";
export { SSE_ERROR_EVENT, toSseEvents, type CameraSseErrorData } from "./camera.sse";
export {
  STATUS_DETAILS_KEY,
  decodeStatusDetails,
  type ErrorInfo,
  type FieldViolation,
  type StatusDetails,
} from "./camera.status-details";
export {
  toDate,
  toFrameMetadata,
  type CaptureEntry,
  type CaptureFile,
  type CapturePage,
  type CaptureResult,
  type EventDelivery,
  type EventEntry,
  type Frame,
  type FrameMetadataEntry,
  type PresetEntry,
  type TriggerResult,
} from "./camera.types";
export * from "./generated/camera/v1/camera";
export type { Timestamp } from "./generated/google/protobuf/timestamp";
