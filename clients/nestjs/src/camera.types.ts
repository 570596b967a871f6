import type { Timestamp } from "./generated/google/protobuf/timestamp";
import type {
  CaptureResponse,
  CaptureSummary,
  Event,
  FrameMetadata,
  FramesResponse,
  GetCaptureResponse,
  ListCapturesResponse,
  Preset,
  SoftwareTriggerResponse,
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
export interface Frame extends Omit<FramesResponse, "capturedAt" | "data" | "metadata"> {
  /** When the frame was captured (millisecond precision); undefined only if the service did not say. */
  capturedAt?: Date;
  /** The frame: raw pixels or an encoded image, as requested. */
  data: Buffer;
  /** The frame's camera timestamp, trigger and receive time. */
  metadata?: FrameMetadataEntry;
}

/** A saved capture's metadata (`listCaptures()`, `getCapture()`). */
export interface CaptureEntry extends Omit<CaptureSummary, "capturedAt" | "metadata"> {
  /** When the frame was captured (millisecond precision); undefined only if the sidecar did not say. */
  capturedAt?: Date;
  /** The frame's camera timestamp, trigger and receive time (undefined for captures saved before it was kept). */
  metadata?: FrameMetadataEntry;
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

function toBuffer(bytes: Uint8Array): Buffer {
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
  };
}

export function toCaptureEntry(summary: CaptureSummary): CaptureEntry {
  return { ...summary, capturedAt: toDate(summary.capturedAt), metadata: toFrameMetadata(summary.metadata) };
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
