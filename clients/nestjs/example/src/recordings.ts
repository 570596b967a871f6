// The example's JSON for recordings (issue 14): the request body of POST /recordings, checked as the legacy
// bodies are (strict types, no unknown fields, else 422), and the HTTP Range of a download.
import { RecordingFormat, type StartRecordingRequest } from "@camera-grpc/nestjs";

import { body, invalid, number } from "./legacy";

/** The formats by the names the CLI and the REST gateway use. */
const FORMATS: Record<string, RecordingFormat> = {
  "ome-tiff": RecordingFormat.RECORDING_FORMAT_OME_TIFF,
  "ome-zarr": RecordingFormat.RECORDING_FORMAT_OME_ZARR,
  mp4: RecordingFormat.RECORDING_FORMAT_MP4,
};

/**
 * POST /recordings: `{ id?, format?: "ome-tiff" | "ome-zarr" | "mp4", frames?, duration_s?, frames_per_file?,
 * max_width? }` (stop after `frames` or `duration_s`; neither: when stopped). Ranges are the service's to check.
 */
export function recordingRequest(value: unknown): Partial<StartRecordingRequest> {
  const fields = body(value, ["id", "format", "frames", "duration_s", "frames_per_file", "max_width"]);
  const request: Partial<StartRecordingRequest> = {
    maxFrames: number(fields, "frames"),
    maxDurationS: number(fields, "duration_s"),
    framesPerFile: number(fields, "frames_per_file"),
    maxWidth: number(fields, "max_width"),
  };
  if (fields.id !== undefined && fields.id !== null) {
    if (typeof fields.id !== "string") {
      throw invalid([{ type: "string_type", loc: ["body", "id"], msg: "Input should be a valid string" }]);
    }
    request.recordingId = fields.id;
  }
  if (fields.format !== undefined && fields.format !== null) {
    if (typeof fields.format !== "string" || !Object.hasOwn(FORMATS, fields.format)) {
      throw invalid([{ type: "literal_error", loc: ["body", "format"], msg: "Input should be 'ome-tiff', 'ome-zarr' or 'mp4'" }]);
    }
    request.format = FORMATS[fields.format];
  }
  return request;
}

/**
 * The first byte a `Range` header asks for: `bytes=N-` (resume from N) gives N; no header, or any other form
 * (several ranges, a suffix, an end), gives undefined: the whole file is sent (a server may ignore a Range).
 */
export function rangeStart(header: string | undefined): number | undefined {
  const match = /^bytes=(\d+)-$/.exec(header?.trim() ?? "");
  return match === null ? undefined : Number(match[1]);
}
