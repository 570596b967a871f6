export {
  CameraClient,
  type CameraCallOptions,
  type DownloadCallOptions,
  type FrameStatisticsRequest,
  type SettingsCallOptions,
} from "./camera.client";
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
  RECORDING_STATE,
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
  CAMERA_PROTO_FILES,
  CAMERA_PROTO_LOADER_OPTIONS,
  DEFAULT_CHANNEL_OPTIONS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  RECORDING_PROTO_FILE,
  STORAGE_PROTO_FILE,
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
export {
  DOWNLOAD_GAP,
  FINAL_RECORDING_STATES,
  RECORDING_COLLECTION,
  RecordingFileDownload,
  isFinalRecordingState,
  recordingId,
  recordingName,
  type RecordingEntry,
  type RecordingFileEntry,
  type RecordingPage,
  type RecordingThumbnail,
} from "./camera.recordings";
export {
  CAPTURE_COLLECTION,
  captureFileName,
  recordingFileName,
  type DownloadUrl,
  type StorageStatus,
} from "./camera.storage";
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
  type FrameStatisticsSample,
  type PresetEntry,
  type TriggerResult,
} from "./camera.types";
export * from "./generated/camera/v1/camera";
// recording.proto and storage.proto: each generated file repeats the package constants of camera.ts.
export {
  RECORDING_SERVICE_NAME,
  RecordingFormat,
  RecordingState,
  type DeleteRecordingRequest,
  type DeleteRecordingResponse,
  type DownloadRecordingFileRequest,
  type DownloadRecordingFileResponse,
  type GetRecordingRequest,
  type GetRecordingResponse,
  type GetRecordingThumbnailRequest,
  type GetRecordingThumbnailResponse,
  type ListRecordingsRequest,
  type ListRecordingsResponse,
  type Recording,
  type RecordingFile,
  type RecordingServiceClient,
  type StartRecordingRequest,
  type StartRecordingResponse,
  type StopRecordingRequest,
  type StopRecordingResponse,
  type WatchRecordingRequest,
  type WatchRecordingResponse,
} from "./generated/camera/v1/recording";
export {
  STORAGE_SERVICE_NAME,
  StorageBackend,
  type GetDownloadUrlRequest,
  type GetDownloadUrlResponse,
  type GetStorageStatusRequest,
  type GetStorageStatusResponse,
  type StorageServiceClient,
} from "./generated/camera/v1/storage";
export type { Timestamp } from "./generated/google/protobuf/timestamp";
