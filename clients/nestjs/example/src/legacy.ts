// The legacy HTTP API's JSON shapes (those of the camera service's REST gateway, which kept them):
// exposure in milliseconds, gain in decibels, snake_case names.
import { UnprocessableEntityException } from "@nestjs/common";
import {
  ImageFormat,
  PixelFormat,
  type CaptureRequest,
  type CaptureResult,
  type GetSettingsResponse,
  type SettingsPatch,
} from "@camera-grpc/nestjs";

export interface CameraSettings {
  exposure: number;
  gain: number;
  resolution: { width: number; height: number };
  width: number;
  height: number;
  pixel_format: string;
  connected: boolean;
}

export interface SavedCapture {
  filename: string;
  path: string;
  url: string;
  exposure: number;
  gain: number;
  format: string;
  size_bytes: number;
  width: number;
  height: number;
  pixel_format: string;
  bit_depth: number;
  frame_number: number;
  captured_at: string | null;
  metadata_path: string;
}

const FORMATS: Record<string, ImageFormat> = {
  jpg: ImageFormat.IMAGE_FORMAT_JPEG,
  jpeg: ImageFormat.IMAGE_FORMAT_JPEG,
  png: ImageFormat.IMAGE_FORMAT_PNG,
  tif: ImageFormat.IMAGE_FORMAT_TIFF,
  tiff: ImageFormat.IMAGE_FORMAT_TIFF,
  bmp: ImageFormat.IMAGE_FORMAT_BMP,
};

export function pixelFormatName(format: PixelFormat): string {
  return format.replace(/^PIXEL_FORMAT_/, "").toLowerCase();
}

function formatName(format: ImageFormat): string {
  return format === ImageFormat.IMAGE_FORMAT_UNSPECIFIED ? "unspecified" : format.replace(/^IMAGE_FORMAT_/, "").toLowerCase();
}

export function toSettings(message: GetSettingsResponse): CameraSettings {
  return {
    exposure: message.exposureMs,
    gain: message.gainDb,
    resolution: { width: message.width, height: message.height },
    width: message.width,
    height: message.height,
    pixel_format: pixelFormatName(message.pixelFormat),
    connected: message.connected,
  };
}

export function toSavedCapture(message: CaptureResult): SavedCapture {
  return {
    filename: message.filename,
    path: message.path,
    url: `/captures/${encodeURIComponent(message.filename)}`,
    exposure: message.exposureMs,
    gain: message.gainDb,
    format: formatName(message.format),
    size_bytes: message.sizeBytes,
    width: message.width,
    height: message.height,
    pixel_format: pixelFormatName(message.pixelFormat),
    bit_depth: message.bitDepth,
    frame_number: message.frameNumber,
    captured_at: message.capturedAt?.toISOString() ?? null,
    metadata_path: message.metadataPath,
  };
}

export interface Issue {
  type: string;
  loc: Array<string | number>;
  msg: string;
}

/** A JSON body's fields, checked as the REST gateway does (strict types, no unknown fields), else 422. */
export function body(value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (value === undefined || value === null) {
    return {};
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalid([{ type: "model_attributes_type", loc: ["body"], msg: "Input should be an object" }]);
  }
  const issues = Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key): Issue => ({ type: "extra_forbidden", loc: ["body", key], msg: "Extra inputs are not permitted" }));
  if (issues.length > 0) {
    throw invalid(issues);
  }
  return value as Record<string, unknown>;
}

export function number(fields: Record<string, unknown>, name: string): number | undefined {
  const value = fields[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "number") {
    throw invalid([{ type: "float_type", loc: ["body", name], msg: "Input should be a valid number" }]);
  }
  return value;
}

export function invalid(detail: Issue[]): UnprocessableEntityException {
  return new UnprocessableEntityException({ detail });
}

/** PUT /settings: `{ exposure?, gain? }`. */
export function settingsUpdate(value: unknown): SettingsPatch {
  const fields = body(value, ["exposure", "gain"]);
  return { exposureMs: number(fields, "exposure"), gainDb: number(fields, "gain") };
}

/** POST /capture: `{ exposure?, gain?, format?, quality? }`. */
export function captureRequest(value: unknown): Partial<CaptureRequest> {
  const fields = body(value, ["exposure", "gain", "format", "quality"]);
  const request: Partial<CaptureRequest> = { exposureMs: number(fields, "exposure"), gainDb: number(fields, "gain") };
  if (fields.format !== undefined && fields.format !== null) {
    if (typeof fields.format !== "string" || !Object.hasOwn(FORMATS, fields.format)) {
      throw invalid([
        { type: "literal_error", loc: ["body", "format"], msg: "Input should be 'jpg', 'jpeg', 'png', 'tif', 'tiff' or 'bmp'" },
      ]);
    }
    request.format = FORMATS[fields.format];
  }
  const quality = number(fields, "quality");
  if (quality !== undefined) {
    if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
      throw invalid([{ type: "less_than_equal", loc: ["body", "quality"], msg: "Input should be an integer from 1 to 100" }]);
    }
    request.quality = quality;
  }
  return request;
}
