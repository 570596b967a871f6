import { status as Status } from "@grpc/grpc-js";

import { CameraGrpcError } from "./camera.errors";
import type { Timestamp } from "./generated/google/protobuf/timestamp";
import type {
  CaptureResponse,
  CaptureSummary,
  Event,
  FrameMetadata,
  FrameStatistics,
  FramesResponse,
  GetCaptureResponse,
  ListCapturesResponse,
  Preset,
  SoftwareTriggerResponse,
  StorageLocation,
  WatchEventsResponse,
} from "./generated/camera/v1/camera";

// What CameraClient resolves to. The generated types describe the wire objects of
// @grpc/proto-loader, which have two traps: an unset message field is `null` (not `undefined` as
// the generated `Timestamp | undefined` says), and an unset `bytes` field is an empty Buffer. The
// client normalises both, and these types say what it returns.

/**
 * What is known about a frame besides its pixels (issue 13): the camera's frame number and timestamp
 * (`cameraTimeS` on `cameraClock`), the trigger that produced it (`triggerSource`, `triggerCount`: frames of
 * cameras triggered by one line match by it) and `receivedAt`, the service's receive time, as a Date.
 */
export interface FrameMetadataEntry extends Omit<FrameMetadata, "receivedAt"> {
  /** When the service received the frame (millisecond precision); undefined only if the service did not say. */
  receivedAt?: Date;
}

/** A saved capture (`capture()`): `capturedAt` is a Date, `imageData` only present when asked for. */
export interface CaptureResult extends Omit<CaptureResponse, "capturedAt" | "imageData" | "metadata"> {
  /** When the frame was captured (millisecond precision); undefined only if the service did not say. */
  capturedAt?: Date;
  /** The file's bytes, with `includeImageData: true`; otherwise absent (undefined). */
  imageData?: Buffer;
  /** The frame's camera timestamp, trigger and receive time (undefined from a service older than issue 13). */
  metadata?: FrameMetadataEntry;
}

/** A live frame (`frames()`). */
export interface Frame extends Omit<FramesResponse, "capturedAt" | "data" | "metadata" | "statistics"> {
  /** When the frame was captured (millisecond precision); undefined only if the service did not say. */
  capturedAt?: Date;
  /** The frame: raw pixels or an encoded image, as requested (empty with FRAME_ENCODING_NONE). */
  data: Buffer;
  /** The frame's camera timestamp, trigger and receive time. */
  metadata?: FrameMetadataEntry;
  /**
   * The frame's pixel statistics (histogram per channel, min, max, mean, saturated fraction, focus score),
   * when the request asked for them (`statistics: { histogramBins }`); undefined otherwise.
   */
  statistics?: FrameStatistics;
}

/** One frame's statistics without its pixels (`frameStatistics()`). */
export interface FrameStatisticsSample extends Omit<Frame, "data" | "statistics"> {
  /** The frame's pixel statistics. */
  statistics: FrameStatistics;
}

/** A frame of a statistics subscription; one without statistics means the service does not compute them. */
export function toFrameStatisticsSample(frame: Frame): FrameStatisticsSample {
  const { data: _data, statistics, ...rest } = frame;
  if (statistics === undefined) {
    throw new CameraGrpcError(
      Status.UNIMPLEMENTED,
      "the camera service sent a frame without statistics: it does not compute them (older than issue 17)",
    );
  }
  return { ...rest, statistics };
}

/** A saved capture's metadata (`listCaptures()`, `getCapture()`). */
export interface CaptureEntry extends Omit<CaptureSummary, "capturedAt" | "metadata" | "location"> {
  /** When the frame was captured (millisecond precision); undefined only if the sidecar did not say. */
  capturedAt?: Date;
  /** The frame's camera timestamp, trigger and receive time (undefined for captures saved before it was kept). */
  metadata?: FrameMetadataEntry;
  /** Where the file is kept (local folder, upload spool or object store); undefined if the service did not say. */
  location?: StorageLocation;
}

/** What a software trigger produced (`softwareTrigger()`): its frame numbers, and the first frame's metadata. */
export interface TriggerResult extends Omit<SoftwareTriggerResponse, "metadata"> {
  metadata?: FrameMetadataEntry;
}

/** One event (`watchEvents()`): `time` is a Date. */
export interface EventEntry extends Omit<Event, "time"> {
  /** When the service learned of it (millisecond precision). */
  time?: Date;
}

/** One message of `watchEvents()`: the event, and how many this subscriber lost just before it. */
export interface EventDelivery extends Omit<WatchEventsResponse, "event"> {
  event?: EventEntry;
}

/** One page of saved captures, newest first (`listCaptures()`). */
export interface CapturePage extends Omit<ListCapturesResponse, "captures"> {
  captures: CaptureEntry[];
}

/** A saved capture's bytes and metadata (`getCapture()`). */
export interface CaptureFile extends Omit<GetCaptureResponse, "capture" | "data"> {
  capture?: CaptureEntry;
  data: Buffer;
}

/** A protobuf Timestamp as a Date; null/undefined (unset) as undefined. */
export function toDate(timestamp: Timestamp | null | undefined): Date | undefined {
  if (timestamp === null || timestamp === undefined) {
    return undefined;
  }
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor(Number(timestamp.nanos) / 1e6));
}

/** Bytes as a Buffer (proto-loader gives Buffers; a plain Uint8Array is wrapped without copying). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Frame metadata with its receive time as a Date; null/undefined (unset) as undefined. */
export function toFrameMetadata(metadata: FrameMetadata | null | undefined): FrameMetadataEntry | undefined {
  if (metadata === null || metadata === undefined) {
    return undefined;
  }
  return { ...metadata, receivedAt: toDate(metadata.receivedAt) };
}

export function toTriggerResult(response: SoftwareTriggerResponse): TriggerResult {
  return { ...response, metadata: toFrameMetadata(response.metadata) };
}

export function toEventDelivery(response: WatchEventsResponse): EventDelivery {
  const event = response.event;
  return {
    ...response,
    event: event === null || event === undefined ? undefined : { ...event, time: toDate(event.time) },
  };
}

export function toCaptureResult(response: CaptureResponse, includeImageData: boolean): CaptureResult {
  const { capturedAt, imageData, metadata, ...rest } = response;
  const result: CaptureResult = { ...rest, capturedAt: toDate(capturedAt), metadata: toFrameMetadata(metadata) };
  if (includeImageData) {
    result.imageData = toBuffer(imageData ?? new Uint8Array());
  }
  return result;
}

export function toFrame(response: FramesResponse): Frame {
  return {
    ...response,
    capturedAt: toDate(response.capturedAt),
    data: toBuffer(response.data ?? new Uint8Array()),
    metadata: toFrameMetadata(response.metadata),
    statistics: response.statistics ?? undefined,
  };
}

/** Where a file is kept; null/undefined (unset: a service that does not say) as undefined. */
export function toStorageLocation(location: StorageLocation | null | undefined): StorageLocation | undefined {
  return location ?? undefined;
}

export function toCaptureEntry(summary: CaptureSummary): CaptureEntry {
  return {
    ...summary,
    capturedAt: toDate(summary.capturedAt),
    metadata: toFrameMetadata(summary.metadata),
    location: toStorageLocation(summary.location),
  };
}

export function toCapturePage(response: ListCapturesResponse): CapturePage {
  return { ...response, captures: response.captures.map(toCaptureEntry) };
}

export function toCaptureFile(response: GetCaptureResponse): CaptureFile {
  const { capture, data, ...rest } = response;
  return {
    ...rest,
    capture: capture === null || capture === undefined ? undefined : toCaptureEntry(capture),
    data: toBuffer(data ?? new Uint8Array()),
  };
}

/** A preset kept by the service (`createPreset()`, `listPresets()`, `getPreset()`): `createTime` is a Date. */
export interface PresetEntry extends Omit<Preset, "createTime"> {
  /** When it was saved (millisecond precision); undefined only if the service did not say. */
  createTime?: Date;
}

export function toPresetEntry(preset: Preset | null | undefined): PresetEntry | undefined {
  if (preset === null || preset === undefined) {
    return undefined;
  }
  return { ...preset, createTime: toDate(preset.createTime) };
}
