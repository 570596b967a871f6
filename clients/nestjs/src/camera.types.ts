import type { Timestamp } from "./generated/google/protobuf/timestamp";
import type {
  CaptureResponse,
  CaptureSummary,
  FramesResponse,
  GetCaptureResponse,
  ListCapturesResponse,
  Preset,
} from "./generated/camera/v1/camera";

// What CameraClient resolves to. The generated types describe the wire objects of
// @grpc/proto-loader, which have two traps: an unset message field is `null` (not `undefined` as
// the generated `Timestamp | undefined` says), and an unset `bytes` field is an empty Buffer. The
// client normalises both, and these types say what it returns.

/** A saved capture (`capture()`): `capturedAt` is a Date, `imageData` only present when asked for. */
export interface CaptureResult extends Omit<CaptureResponse, "capturedAt" | "imageData"> {
  /** When the frame was captured (millisecond precision); undefined only if the service did not say. */
  capturedAt?: Date;
  /** The file's bytes, with `includeImageData: true`; otherwise absent (undefined). */
  imageData?: Buffer;
}

/** A live frame (`frames()`). */
export interface Frame extends Omit<FramesResponse, "capturedAt" | "data"> {
  /** When the frame was captured (millisecond precision); undefined only if the service did not say. */
  capturedAt?: Date;
  /** The frame: raw pixels or an encoded image, as requested. */
  data: Buffer;
}

/** A saved capture's metadata (`listCaptures()`, `getCapture()`). */
export interface CaptureEntry extends Omit<CaptureSummary, "capturedAt"> {
  /** When the frame was captured (millisecond precision); undefined only if the sidecar did not say. */
  capturedAt?: Date;
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

export function toCaptureResult(response: CaptureResponse, includeImageData: boolean): CaptureResult {
  const { capturedAt, imageData, ...rest } = response;
  const result: CaptureResult = { ...rest, capturedAt: toDate(capturedAt) };
  if (includeImageData) {
    result.imageData = toBuffer(imageData ?? new Uint8Array());
  }
  return result;
}

export function toFrame(response: FramesResponse): Frame {
  return { ...response, capturedAt: toDate(response.capturedAt), data: toBuffer(response.data ?? new Uint8Array()) };
}

export function toCaptureEntry(summary: CaptureSummary): CaptureEntry {
  return { ...summary, capturedAt: toDate(summary.capturedAt) };
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
