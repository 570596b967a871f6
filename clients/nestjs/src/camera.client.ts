import { Metadata, type CallOptions as GrpcCallOptions, type ClientReadableStream } from "@grpc/grpc-js";
import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from "@nestjs/common";
import type { ClientGrpcProxy } from "@nestjs/microservices";
import { catchError, defer, lastValueFrom, map, throwError, type Observable } from "rxjs";

import { channelSecurity, type CameraChannelSecurity } from "./camera.credentials";
import { CameraGrpcError } from "./camera.errors";
import {
  BUNDLED_PROTO_ROOT,
  CAMERA_CHANNEL_SECURITY,
  CAMERA_GRPC_CLIENT,
  CAMERA_MODULE_OPTIONS,
  CAMERA_PROTO_FILE,
  DEFAULT_DEADLINE_MS,
  RECORDING_PROTO_FILE,
  STORAGE_PROTO_FILE,
  type CameraModuleOptions,
} from "./camera.options";
import {
  RecordingFileDownload,
  recordingName,
  requireRecording,
  toRecordingPage,
  toRecordingThumbnail,
  type RecordingEntry,
  type RecordingPage,
  type RecordingThumbnail,
} from "./camera.recordings";
import { toDownloadUrl, toStorageStatus, type DownloadUrl, type StorageStatus } from "./camera.storage";
import { INVALID_REQUEST, checkRequest } from "./camera.requests";
import { isUpdateRequest, presetName, updateSettingsWire, type SettingsPatch } from "./camera.settings";
import {
  toCaptureFile,
  toCapturePage,
  toCaptureResult,
  toEventDelivery,
  toFrame,
  toFrameStatisticsSample,
  toPresetEntry,
  toTriggerResult,
  type CaptureFile,
  type CapturePage,
  type CaptureResult,
  type EventDelivery,
  type Frame,
  type FrameStatisticsSample,
  type PresetEntry,
  type TriggerResult,
} from "./camera.types";
import {
  CAMERA_SERVICE_NAME,
  type CameraServiceClient,
  type CaptureRequest,
  type DeliveryPolicy,
  type EventType,
  FrameEncoding,
  type FramesRequest,
  type GetIoStatusResponse,
  type GetCameraInfoResponse,
  type ApplyPresetResponse,
  type GetSettingsResponse,
  type ListCapturesRequest,
  type LoadSettingsFromCameraResponse,
  type UpdateSettingsRequest,
  type UpdateSettingsResponse,
  type WatchSettingsResponse,
} from "./generated/camera/v1/camera";
import {
  RECORDING_SERVICE_NAME,
  type DownloadRecordingFileRequest,
  type DownloadRecordingFileResponse,
  type ListRecordingsRequest,
  type RecordingServiceClient,
  type StartRecordingRequest,
} from "./generated/camera/v1/recording";
import { STORAGE_SERVICE_NAME, type StorageServiceClient } from "./generated/camera/v1/storage";

/** Per-call options. */
export interface CameraCallOptions {
  /**
   * Deadline, ms from now. Unary calls default to the module's `defaultDeadlineMs` (10 s), a capture
   * to that plus its exposure; `frames` has none unless given. `Infinity` means no deadline.
   */
  deadlineMs?: number;
  /** Request metadata (headers) sent with the call (an `authorization` here wins over the module's token). */
  metadata?: Metadata;
}

/** Options of a call that changes settings: the call's options, and the revision the settings must still have. */
export interface SettingsCallOptions extends CameraCallOptions {
  /**
   * Apply only if the settings still have this revision (`settings.revision` of getSettings, watchSettings
   * or an earlier update); otherwise the call fails with ABORTED and nothing is changed.
   */
  expectedRevision?: number;
}

/** Options of `downloadRecordingFile()`: the call's options, and where in the file to start. */
export interface DownloadCallOptions extends CameraCallOptions {
  /** Start at this byte (0 by default): the size of what a broken download already wrote, to resume it. */
  offset?: number;
}

/** What `frameStatistics()` asks for. */
export interface FrameStatisticsRequest {
  /** Histogram bins per channel (0 or unset: 256; at most 4096 and 2^bit depth). */
  histogramBins?: number;
  /** At most this many frames per second (unset: every frame the camera delivers). */
  maxFps?: number;
  /** Complete after this many frames (unset: until unsubscribed). */
  maxFrames?: number;
  /** What happens when the subscriber reads too slowly (default: the latest frame wins). */
  policy?: DeliveryPolicy;
}

/** The gRPC stub of camera.v1.RecordingService as @grpc/grpc-js makes it (for downloads with backpressure). */
interface RawRecordingService {
  downloadRecordingFile(
    request: DownloadRecordingFileRequest,
    metadata: Metadata,
    options: GrpcCallOptions,
  ): ClientReadableStream<DownloadRecordingFileResponse>;
}

/**
 * The camera service for a NestJS application: inject it where the legacy HTTP CameraService was.
 * Unary calls return Promises; `frames`, `watchSettings` and `watchEvents` return Observables (unsubscribing
 * cancels the stream).
 * Every failure rejects / errors with a {@link CameraGrpcError} carrying the gRPC code and message.
 * Requests are checked before they are sent: an unknown field, an enum given by an unknown name or
 * a value of the wrong type is an INVALID_ARGUMENT CameraGrpcError, never a silent default.
 */
@Injectable()
export class CameraClient implements OnModuleInit, OnModuleDestroy {
  private service?: CameraServiceClient;
  /** camera.v1.RecordingService and StorageService: clients of the same ClientGrpcProxy (same address, credentials and connection). */
  private recordings?: RecordingServiceClient;
  private storage?: StorageServiceClient;
  /** The camera's longest exposure, ms (GetCameraInfo), once known: the capture deadline's allowance. */
  private maxExposureMs?: Promise<number>;
  /** The channel's TLS and token (the module makes it once from its options). */
  private readonly security: CameraChannelSecurity;

  constructor(
    @Inject(CAMERA_GRPC_CLIENT) private readonly grpc: ClientGrpcProxy,
    @Inject(CAMERA_MODULE_OPTIONS) private readonly options: CameraModuleOptions,
    @Optional() @Inject(CAMERA_CHANNEL_SECURITY) security?: CameraChannelSecurity,
  ) {
    this.security = security ?? channelSecurity(options);
  }

  onModuleInit(): void {
    this.service = this.grpc.getService<CameraServiceClient>(CAMERA_SERVICE_NAME);
    this.recordings = this.grpc.getService<RecordingServiceClient>(RECORDING_SERVICE_NAME);
    this.storage = this.grpc.getService<StorageServiceClient>(STORAGE_SERVICE_NAME);
  }

  onModuleDestroy(): void {
    this.grpc.close();
  }

  /**
   * Capture one frame and save it on the service's host. `exposureMs`/`gainDb` are applied first and
   * kept; `includeImageData: true` also returns the file's bytes (`imageData`, a Buffer; absent otherwise).
   *
   * Unless `options.deadlineMs` is given, the deadline is `defaultDeadlineMs` plus the exposure: the
   * requested `exposureMs`, or, when none is given, the camera's longest exposure (`maxExposureMs` of
   * GetCameraInfo, asked once per client), since the exposure in effect is not known beforehand.
   */
  async capture(request: Partial<CaptureRequest> = {}, options?: CameraCallOptions): Promise<CaptureResult> {
    this.check("camera.v1.CaptureRequest", request);
    const deadlineMs = options?.deadlineMs ?? this.defaultDeadlineMs() + (await this.exposureAllowanceMs(request));
    const response = await this.unary(
      (service, ...args) => service.capture(request as CaptureRequest, ...args),
      { ...options, deadlineMs },
    );
    return toCaptureResult(response, request.includeImageData === true);
  }

  /** The camera's current settings (`connected: false` with the last known values while disconnected). */
  getSettings(options?: CameraCallOptions): Promise<GetSettingsResponse> {
    return this.unary((service, ...args) => service.getSettings({}, ...args), options);
  }

  /**
   * Change the settings given, all or nothing; resolves to what the camera applied (`settings`, with its
   * new `revision`). Give some settings (a {@link SettingsPatch}: `{ roi: { width: 640 }, exposureAuto:
   * "AUTO_MODE_ONCE" }`): the request's FieldMask names each value given, so nothing else changes. Or an
   * UpdateSettingsRequest as it is (`settings` and `updateMask`). `options.expectedRevision`: apply only
   * if the settings still have that revision (else ABORTED, HTTP 409). A setting the camera does not have
   * is FAILED_PRECONDITION with the reason FEATURE_UNSUPPORTED (HTTP 409). Triggering and GPIO lines are
   * settings too: `{ trigger: { source: "TRIGGER_SOURCE_SOFTWARE" } }`, `{ gpio: [{ line: 1, mode:
   * "GPIO_MODE_STROBE", durationMs: 2 }, { line: 2 }] }` (a list, replaced whole).
   */
  async updateSettings(
    request: UpdateSettingsRequest | SettingsPatch,
    options?: SettingsCallOptions,
  ): Promise<UpdateSettingsResponse> {
    const given = request ?? {};
    if (typeof given === "object" && !isUpdateRequest(given)) {
      this.check("camera.v1.CameraSettings", given); // named as the FieldMask names them: roi.width
    }
    const wire = typeof given === "object" ? updateSettingsWire(given, options?.expectedRevision) : given;
    this.check("camera.v1.UpdateSettingsRequest", wire);
    return this.unary((service, ...args) => service.updateSettings(wire as UpdateSettingsRequest, ...args), options);
  }

  /**
   * The settings now (cause `initial`), then again after every change, whoever made it (another client,
   * auto exposure converging, a reconnect, a preset), each with a higher `settings.revision`. Cold: each
   * subscription opens its own stream; unsubscribing cancels it. No deadline unless given.
   */
  watchSettings(options?: CameraCallOptions): Observable<WatchSettingsResponse> {
    return defer(() => {
      const [metadata, callOptions] = this.callArguments(options?.deadlineMs, options);
      return this.connected().watchSettings({}, metadata, callOptions);
    }).pipe(catchError((error: unknown) => throwError(() => CameraGrpcError.from(error, this.security))));
  }

  /** Save the current settings as preset `presetId` (kept by the service; one of that name is replaced). */
  async createPreset(presetId: string, options?: CameraCallOptions): Promise<PresetEntry | undefined> {
    this.check("camera.v1.CreatePresetRequest", { presetId });
    const response = await this.unary((service, ...args) => service.createPreset({ presetId }, ...args), options);
    return toPresetEntry(response.preset);
  }

  /** The saved presets, sorted by name. */
  async listPresets(options?: CameraCallOptions): Promise<PresetEntry[]> {
    const response = await this.unary((service, ...args) => service.listPresets({}, ...args), options);
    return response.presets.map((preset) => toPresetEntry(preset) as PresetEntry);
  }

  /** One preset, by id or name (`day` or `presets/day`); NOT_FOUND (HTTP 404) if there is none. */
  async getPreset(preset: string, options?: CameraCallOptions): Promise<PresetEntry | undefined> {
    const name = presetName(preset);
    this.check("camera.v1.GetPresetRequest", { name });
    return toPresetEntry((await this.unary((service, ...args) => service.getPreset({ name }, ...args), options)).preset);
  }

  /** Delete one preset, by id or name; NOT_FOUND if there is none. */
  async deletePreset(preset: string, options?: CameraCallOptions): Promise<void> {
    const name = presetName(preset);
    this.check("camera.v1.DeletePresetRequest", { name });
    await this.unary((service, ...args) => service.deletePreset({ name }, ...args), options);
  }

  /** Apply a preset's settings (by id or name), all or nothing; resolves to what the camera applied. */
  applyPreset(preset: string, options?: SettingsCallOptions): Promise<ApplyPresetResponse> {
    const request = { name: presetName(preset), expectedRevision: options?.expectedRevision };
    this.check("camera.v1.ApplyPresetRequest", request);
    return this.unary((service, ...args) => service.applyPreset(request, ...args), options);
  }

  /** Store the camera's current settings in its own non-volatile user `channel` (1 to `settingsChannels`). */
  async saveSettingsToCamera(channel: number, options?: CameraCallOptions): Promise<void> {
    this.check("camera.v1.SaveSettingsToCameraRequest", { channel });
    await this.unary((service, ...args) => service.saveSettingsToCamera({ channel }, ...args), options);
  }

  /** Load the settings of one of the camera's channels (0: factory defaults); resolves to them as applied. */
  loadSettingsFromCamera(channel: number, options?: CameraCallOptions): Promise<LoadSettingsFromCameraResponse> {
    this.check("camera.v1.LoadSettingsFromCameraRequest", { channel });
    return this.unary((service, ...args) => service.loadSettingsFromCamera({ channel }, ...args), options);
  }

  /**
   * Fire one software trigger; resolves, once the camera delivered it, to the frame number(s) it produced and
   * the first frame's `metadata` (camera timestamp, `triggerCount`); `frames()` subscribers get that frame too.
   * The camera must be in software-trigger mode (`updateSettings({ trigger: { source:
   * "TRIGGER_SOURCE_SOFTWARE" } })`), else FAILED_PRECONDITION with the reason TRIGGER_MODE (HTTP 409). The
   * default deadline adds the camera's longest exposure, as a capture's does.
   */
  async softwareTrigger(options?: CameraCallOptions): Promise<TriggerResult> {
    const deadlineMs = options?.deadlineMs ?? this.defaultDeadlineMs() + (await this.exposureAllowanceMs({}));
    const response = await this.unary((service, ...args) => service.softwareTrigger({}, ...args), {
      ...options,
      deadlineMs,
    });
    return toTriggerResult(response);
  }

  /** The GPIO lines (mode, input level read now) and the camera's temperatures (undefined where it has none). */
  getIoStatus(options?: CameraCallOptions): Promise<GetIoStatusResponse> {
    return this.unary((service, ...args) => service.getIoStatus({}, ...args), options);
  }

  /**
   * The camera's and the service's events from now on, as they happen (`types`: only these, e.g.
   * `[EventType.EVENT_TYPE_TRIGGER_MISSED]`; none: all): disconnects and reconnects, settings changes,
   * hardware triggers, missed triggers, skipped frames, saved captures, temperatures, the service stopping.
   * Each has a consecutive `event.sequenceNumber`; `missedEvents` counts those this subscriber lost just
   * before it (it read too slowly). Cold: each subscription opens its own stream; unsubscribing cancels it.
   * Completes when the service stops (after EVENT_TYPE_SERVICE_STOPPING). No deadline unless given.
   */
  watchEvents(types: readonly EventType[] = [], options?: CameraCallOptions): Observable<EventDelivery> {
    return defer(() => {
      const request = { types: [...types] };
      this.check("camera.v1.WatchEventsRequest", request);
      const [metadata, callOptions] = this.callArguments(options?.deadlineMs, options);
      return this.connected().watchEvents(request, metadata, callOptions);
    }).pipe(
      map(toEventDelivery),
      catchError((error: unknown) => throwError(() => CameraGrpcError.from(error, this.security))),
    );
  }

  /**
   * Model, serial number, sensor size and the valid exposure and gain ranges; `features` describes every
   * setting as the camera reports it (by field path: `roi.width`; supported, limits, step, choices),
   * `settingsChannels` the camera's own user channels.
   */
  getCameraInfo(options?: CameraCallOptions): Promise<GetCameraInfoResponse> {
    return this.unary((service, ...args) => service.getCameraInfo({}, ...args), options);
  }

  /** Saved captures, newest first, one page (`nextPageToken` is empty on the last page). */
  async listCaptures(request: Partial<ListCapturesRequest> = {}, options?: CameraCallOptions): Promise<CapturePage> {
    this.check("camera.v1.ListCapturesRequest", request);
    const response = await this.unary(
      (service, ...args) => service.listCaptures(request as ListCapturesRequest, ...args),
      options,
    );
    return toCapturePage(response);
  }

  /** One saved capture's bytes (`data`), content type and metadata; NOT_FOUND unless it is a listed capture. */
  async getCapture(filename: string, options?: CameraCallOptions): Promise<CaptureFile> {
    this.check("camera.v1.GetCaptureRequest", { filename });
    return toCaptureFile(await this.unary((service, ...args) => service.getCapture({ filename }, ...args), options));
  }

  /**
   * Delete one saved capture: its image and metadata sidecar, on the service's disk and in its object store.
   * NOT_FOUND (HTTP 404) unless it is a listed capture; UNAVAILABLE (HTTP 503) when the object store cannot
   * delete an uploaded one (which is then kept whole).
   */
  async deleteCapture(filename: string, options?: CameraCallOptions): Promise<void> {
    this.check("camera.v1.DeleteCaptureRequest", { filename });
    await this.unary((service, ...args) => service.deleteCapture({ filename }, ...args), options);
  }

  /**
   * A saved capture's thumbnail: `data` is a JPEG no wider than `maxWidth` pixels (16 to 1024; made once by the
   * service and cached), never the full image; `capture` its metadata, as `getCapture()`. NOT_FOUND unless it is
   * a listed capture; a width out of range is INVALID_ARGUMENT (HTTP 422) naming `thumbnail_max_width`.
   */
  async getCaptureThumbnail(filename: string, maxWidth: number, options?: CameraCallOptions): Promise<CaptureFile> {
    const request = { filename, thumbnailMaxWidth: maxWidth };
    this.check("camera.v1.GetCaptureRequest", request);
    return toCaptureFile(await this.unary((service, ...args) => service.getCapture(request, ...args), options));
  }

  /**
   * Live frames. Cold: each subscription opens its own stream, and unsubscribing cancels it.
   * Completes after `maxFrames`; errors (e.g. UNAVAILABLE when the camera disconnects or the service
   * goes away) as CameraGrpcError. For Server-Sent Events, pipe it through `toSseEvents()`.
   */
  frames(request: Partial<FramesRequest> = {}, options?: CameraCallOptions): Observable<Frame> {
    return defer(() => {
      this.check("camera.v1.FramesRequest", request);
      const [metadata, callOptions] = this.callArguments(options?.deadlineMs, options);
      return this.connected().frames(request as FramesRequest, metadata, callOptions);
    }).pipe(
      map(toFrame),
      catchError((error: unknown) => throwError(() => CameraGrpcError.from(error, this.security))),
    );
  }

  /**
   * Live pixel statistics without the pixels (FRAME_ENCODING_NONE): per frame its number, time, size and
   * `statistics` (a histogram of `histogramBins` bins per channel, minimum, maximum, mean and saturated fraction,
   * computed by the service from the raw pixels at the sensor's bit depth, and a focus score), at most `maxFps`
   * per second. For a histogram next to the live view, or focusing by hand. Cold, like `frames()`; a service
   * that sends frames without statistics (older than the contract of issue 17) is an UNIMPLEMENTED error.
   */
  frameStatistics(request: FrameStatisticsRequest = {}, options?: CameraCallOptions): Observable<FrameStatisticsSample> {
    return defer(() => {
      const { histogramBins, ...rest } = request;
      return this.frames(
        { ...rest, encoding: FrameEncoding.FRAME_ENCODING_NONE, statistics: { histogramBins: histogramBins ?? 0 } },
        options,
      );
    }).pipe(map(toFrameStatisticsSample));
  }

  // -- recordings (camera.v1.RecordingService, issue 14) ------------------------------------------------------

  /**
   * Start recording the camera's frames to files on the service's host, with the current settings and trigger
   * mode: `{ format: RecordingFormat.RECORDING_FORMAT_OME_ZARR, maxFrames: 1000 }` (stop after `maxFrames` or
   * `maxDurationS`, 0: when stopped; `framesPerFile`; `maxWidth` for MP4; `recordingId`, else one is made).
   * Resolves to the recording (RUNNING); follow it with `watchRecording()`. A recording that would not fit on the
   * disk is RESOURCE_EXHAUSTED, one while another runs FAILED_PRECONDITION, an id in use ALREADY_EXISTS (HTTP 409).
   */
  async startRecording(request: Partial<StartRecordingRequest> = {}, options?: CameraCallOptions): Promise<RecordingEntry> {
    this.check("camera.v1.StartRecordingRequest", request, RECORDING_PROTO_FILE);
    const response = await this.call(
      () => this.recordingService(),
      (service, ...args) => service.startRecording(request as StartRecordingRequest, ...args),
      options,
    );
    return requireRecording(response.recording);
  }

  /** Stop a running recording (by id or `recordings/{id}`); resolves to it in its final state (STOPPED), files complete. */
  async stopRecording(recording: string, options?: CameraCallOptions): Promise<RecordingEntry> {
    const name = this.checkedRecordingName("camera.v1.StopRecordingRequest", recording);
    const response = await this.call(
      () => this.recordingService(),
      (service, ...args) => service.stopRecording({ name }, ...args),
      options,
    );
    return requireRecording(response.recording);
  }

  /** One recording (by id or name) with its progress and files; NOT_FOUND (HTTP 404) if there is none. */
  async getRecording(recording: string, options?: CameraCallOptions): Promise<RecordingEntry> {
    const name = this.checkedRecordingName("camera.v1.GetRecordingRequest", recording);
    const response = await this.call(
      () => this.recordingService(),
      (service, ...args) => service.getRecording({ name }, ...args),
      options,
    );
    return requireRecording(response.recording);
  }

  /** Recordings, newest first, one page (`{ pageSize, pageToken }`; `nextPageToken` is empty on the last page). */
  async listRecordings(page: Partial<ListRecordingsRequest> = {}, options?: CameraCallOptions): Promise<RecordingPage> {
    this.check("camera.v1.ListRecordingsRequest", page, RECORDING_PROTO_FILE);
    const response = await this.call(
      () => this.recordingService(),
      (service, ...args) => service.listRecordings(page as ListRecordingsRequest, ...args),
      options,
    );
    return toRecordingPage(response);
  }

  /** Delete a recording that is not running (by id or name), and its files; FAILED_PRECONDITION while it runs. */
  async deleteRecording(recording: string, options?: CameraCallOptions): Promise<void> {
    const name = this.checkedRecordingName("camera.v1.DeleteRecordingRequest", recording);
    await this.call(
      () => this.recordingService(),
      (service, ...args) => service.deleteRecording({ name }, ...args),
      options,
    );
  }

  /**
   * A recording's progress (state, frames written and dropped, bytes, rate): the recording now, then on every
   * change (a few times per second at most); completes after the message with its final state (COMPLETED,
   * STOPPED or FAILED with `failureReason`), at once for one that has ended. Cold; unsubscribing cancels the
   * watch (not the recording). No deadline unless given.
   */
  watchRecording(recording: string, options?: CameraCallOptions): Observable<RecordingEntry> {
    return defer(() => {
      const name = this.checkedRecordingName("camera.v1.WatchRecordingRequest", recording);
      const [metadata, callOptions] = this.callArguments(options?.deadlineMs, options);
      return this.recordingService().watchRecording({ name }, metadata, callOptions);
    }).pipe(
      map((response) => requireRecording(response.recording)),
      catchError((error: unknown) => throwError(() => CameraGrpcError.from(error, this.security))),
    );
  }

  /**
   * One file of a recording (`file`: a name from its `files`) as a Node.js Readable of its bytes, from
   * `options.offset` on (to resume a broken download: the size already written), streamed in chunks with
   * backpressure; `sizeBytes` is the whole file's size once the first chunk arrived, `position` where the next
   * byte is. Fails with a CameraGrpcError (an `error` event): NOT_FOUND for a recording or file that does not
   * exist (HTTP 404), INVALID_ARGUMENT for an offset beyond the end. Destroying it cancels the download.
   * No deadline unless given (a large file takes as long as it takes).
   */
  downloadRecordingFile(recording: string, file: string, options: DownloadCallOptions = {}): RecordingFileDownload {
    const offset = options.offset ?? 0;
    const request = { name: recordingName(recording), file, offset };
    this.check("camera.v1.DownloadRecordingFileRequest", request, RECORDING_PROTO_FILE);
    if (offset < 0) {
      throw CameraGrpcError.invalidRequest(
        [{ field: "offset", description: `must be 0 or more (bytes), not ${offset}` }],
        INVALID_REQUEST,
      );
    }
    const download = new RecordingFileDownload(offset);
    const [metadata, callOptions] = this.callArguments(options.deadlineMs, options);
    const raw = this.grpc.getClientByServiceName<RawRecordingService>(RECORDING_SERVICE_NAME);
    return download.follow(raw.downloadRecordingFile(request, metadata, callOptions), (error) =>
      CameraGrpcError.from(error, this.security),
    );
  }

  /**
   * A small JPEG of a recording's first frame (`data`, no wider than `maxWidth` pixels, 16 to 1024; unset: 256),
   * made once by the service and cached, with the camera frame number it shows; NOT_FOUND if there is no such
   * recording.
   */
  async getRecordingThumbnail(recording: string, maxWidth?: number, options?: CameraCallOptions): Promise<RecordingThumbnail> {
    const request = { name: recordingName(recording), maxWidth: maxWidth ?? 0 };
    this.check("camera.v1.GetRecordingThumbnailRequest", request, RECORDING_PROTO_FILE);
    const response = await this.call(
      () => this.recordingService(),
      (service, ...args) => service.getRecordingThumbnail(request, ...args),
      options,
    );
    return toRecordingThumbnail(response);
  }

  // -- storage (camera.v1.StorageService, issue 16) -----------------------------------------------------------

  /**
   * Where the service keeps captures and recordings: the local folders, or an S3-compatible object store
   * (`endpoint`, `bucket`, this camera's `prefix`) with its spool (`spoolBytes` of `spoolBudgetBytes`,
   * `pendingUploads`), whether the store is `reachable` (`lastError`), and the disk's free bytes.
   */
  async getStorageStatus(options?: CameraCallOptions): Promise<StorageStatus> {
    const response = await this.call(
      () => this.storageService(),
      (service, ...args) => service.getStorageStatus({}, ...args),
      options,
    );
    return toStorageStatus(response);
  }

  /**
   * A pre-signed URL (plain HTTP GET, no credentials) of a file in the object store, valid for `validForS`
   * seconds (unset: 300; at most 86400), so a large file need not pass through the service or this back end.
   * `name`: `captures/{filename}` or `recordings/{id}/files/{file}` (`captureFileName()`, `recordingFileName()`).
   * NOT_FOUND for no such file; FAILED_PRECONDITION when it is not in the object store (yet): download it
   * through the service instead (`getCapture()`, `downloadRecordingFile()`).
   */
  async getDownloadUrl(name: string, validForS?: number, options?: CameraCallOptions): Promise<DownloadUrl> {
    const request = { name, validForS: validForS ?? 0 };
    this.check("camera.v1.GetDownloadUrlRequest", request, STORAGE_PROTO_FILE);
    const response = await this.call(
      () => this.storageService(),
      (service, ...args) => service.getDownloadUrl(request, ...args),
      options,
    );
    return toDownloadUrl(response);
  }

  private check(typeName: string, request: unknown, protoFile: string = CAMERA_PROTO_FILE): void {
    checkRequest(this.options.protoRoot ?? BUNDLED_PROTO_ROOT, protoFile, typeName, request);
  }

  /** `recordings/{id}` of a recording given by id or name, checked as the request's `name`. */
  private checkedRecordingName(typeName: string, recording: string): string {
    if (typeof recording !== "string") {
      this.check(typeName, { name: recording }, RECORDING_PROTO_FILE); // names the field and its type
    }
    return recordingName(recording);
  }

  private defaultDeadlineMs(): number {
    return this.options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  /** How long a capture's exposure may take, ms: the requested one, else the camera's longest. */
  private async exposureAllowanceMs(request: Partial<CaptureRequest>): Promise<number> {
    const requested = request.exposureMs;
    if (typeof requested === "number") {
      // NaN, negative or infinite: the service refuses it at once, no allowance needed.
      return Number.isFinite(requested) && requested > 0 ? requested : 0;
    }
    if (this.maxExposureMs === undefined) {
      const pending = this.getCameraInfo().then((info) => info.maxExposureMs);
      this.maxExposureMs = pending;
      pending.catch(() => {
        if (this.maxExposureMs === pending) {
          this.maxExposureMs = undefined; // ask again next time
        }
      });
    }
    // If the service cannot say (unreachable, camera gone), the capture would fail the same way.
    return this.maxExposureMs;
  }

  private unary<T>(
    call: (service: CameraServiceClient, metadata: Metadata, options: GrpcCallOptions) => Observable<T>,
    options?: CameraCallOptions,
  ): Promise<T> {
    return this.call(() => this.connected(), call, options);
  }

  /** A unary call of one of the services (`stub`), with the default deadline unless given, failures as CameraGrpcError. */
  private call<S, T>(
    stub: () => S,
    call: (service: S, metadata: Metadata, options: GrpcCallOptions) => Observable<T>,
    options?: CameraCallOptions,
  ): Promise<T> {
    const deadlineMs = options?.deadlineMs ?? this.defaultDeadlineMs();
    return lastValueFrom(defer(() => call(stub(), ...this.callArguments(deadlineMs, options)))).catch(
      (error: unknown) => {
        throw CameraGrpcError.from(error, this.security);
      },
    );
  }

  private callArguments(deadlineMs: number | undefined, options?: CameraCallOptions): [Metadata, GrpcCallOptions] {
    const callOptions: GrpcCallOptions = {};
    if (deadlineMs !== undefined && Number.isFinite(deadlineMs)) {
      callOptions.deadline = new Date(Date.now() + deadlineMs);
    }
    const metadata = options?.metadata?.clone() ?? new Metadata();
    const token = this.security.metadata?.get("authorization") ?? [];
    if (token.length > 0 && metadata.get("authorization").length === 0) {
      metadata.set("authorization", token[0]); // a token on a plaintext loopback channel: sent as metadata
    }
    return [metadata, callOptions];
  }

  private connected(): CameraServiceClient {
    if (this.service === undefined) {
      // Before the module's init hook (e.g. in a constructor): resolve now.
      this.onModuleInit();
    }
    return this.service as CameraServiceClient;
  }

  private recordingService(): RecordingServiceClient {
    this.connected();
    return this.recordings as RecordingServiceClient;
  }

  private storageService(): StorageServiceClient {
    this.connected();
    return this.storage as StorageServiceClient;
  }
}
