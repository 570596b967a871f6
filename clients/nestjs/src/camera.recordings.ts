import { status as Status, type ClientReadableStream } from "@grpc/grpc-js";
import { Transform, type TransformCallback } from "node:stream";

import { CameraGrpcError } from "./camera.errors";
import { CLIENT_ERROR_DOMAIN } from "./camera.http-status";
import { toBuffer, toDate, toStorageLocation } from "./camera.types";
import type { CameraSettings, StorageLocation } from "./generated/camera/v1/camera";
import {
  RecordingState,
  type DownloadRecordingFileResponse,
  type GetRecordingThumbnailResponse,
  type ListRecordingsResponse,
  type Recording,
  type RecordingFile,
} from "./generated/camera/v1/recording";

// What CameraClient's recording methods (issue 14) resolve to: the wire objects of @grpc/proto-loader with
// times as Dates, unset messages as undefined (not null) and bytes as Buffers, as for captures.

/** The collection of recordings' resource names: `recordings/{recording_id}`. */
export const RECORDING_COLLECTION = "recordings";
/** ErrorInfo reason of a download whose chunks did not follow each other (DATA_LOSS, raised by this package). */
export const DOWNLOAD_GAP = "DOWNLOAD_GAP";
/** The states a recording ends in (its last WatchRecording message has one of them). */
export const FINAL_RECORDING_STATES: ReadonlySet<RecordingState> = new Set([
  RecordingState.RECORDING_STATE_COMPLETED,
  RecordingState.RECORDING_STATE_STOPPED,
  RecordingState.RECORDING_STATE_FAILED,
]);

/** `recordings/{id}` from an id (`run-1`) or a resource name (`recordings/run-1`). */
export function recordingName(recording: string): string {
  return recording.startsWith(`${RECORDING_COLLECTION}/`) ? recording : `${RECORDING_COLLECTION}/${recording}`;
}

/** The id of a recording (`run-1`) from its resource name or id. */
export function recordingId(recording: string): string {
  return recording.startsWith(`${RECORDING_COLLECTION}/`) ? recording.slice(RECORDING_COLLECTION.length + 1) : recording;
}

/** One file of a recording: where it is kept (`location`) is undefined only if the service did not say. */
export interface RecordingFileEntry extends Omit<RecordingFile, "location"> {
  location?: StorageLocation;
}

/** A recording (`startRecording()`, `getRecording()`, `watchRecording()`, ...): times as Dates. */
export interface RecordingEntry extends Omit<Recording, "startTime" | "endTime" | "files" | "settings"> {
  /** When it started (millisecond precision). */
  startTime?: Date;
  /** When it ended; undefined while RUNNING. */
  endTime?: Date;
  /** Its files (downloadable with `downloadRecordingFile()`). */
  files: RecordingFileEntry[];
  /** The settings it was recorded with (undefined if the service did not keep them). */
  settings?: CameraSettings;
}

/** One page of recordings, newest first (`listRecordings()`; `nextPageToken` is empty on the last page). */
export interface RecordingPage extends Omit<ListRecordingsResponse, "recordings"> {
  recordings: RecordingEntry[];
}

/** A recording's thumbnail (`getRecordingThumbnail()`): a small JPEG of its first frame. */
export interface RecordingThumbnail extends Omit<GetRecordingThumbnailResponse, "data"> {
  data: Buffer;
}

/** Whether a recording has ended (completed, stopped or failed). */
export function isFinalRecordingState(state: RecordingState): boolean {
  return FINAL_RECORDING_STATES.has(state);
}

export function toRecordingFile(file: RecordingFile): RecordingFileEntry {
  return { ...file, location: toStorageLocation(file.location) };
}

export function toRecording(recording: Recording): RecordingEntry {
  const { startTime, endTime, files, settings, ...rest } = recording;
  return {
    ...rest,
    startTime: toDate(startTime),
    endTime: toDate(endTime),
    files: files.map(toRecordingFile),
    settings: settings ?? undefined,
  };
}

/** The recording of a response that must have one (StartRecording, GetRecording, ...). */
export function requireRecording(recording: Recording | null | undefined): RecordingEntry {
  if (recording === null || recording === undefined) {
    throw new CameraGrpcError(Status.INTERNAL, "the camera service answered without the recording");
  }
  return toRecording(recording);
}

export function toRecordingPage(response: ListRecordingsResponse): RecordingPage {
  return { ...response, recordings: response.recordings.map(toRecording) };
}

export function toRecordingThumbnail(response: GetRecordingThumbnailResponse): RecordingThumbnail {
  return { ...response, data: toBuffer(response.data ?? new Uint8Array()) };
}

/**
 * One file of a recording as it downloads (`downloadRecordingFile()`): a Node.js Readable of the file's bytes
 * from `offset` on, with backpressure (the next chunk is asked of the service only when this one was read),
 * e.g. `pipeline(download, createWriteStream(path, { flags: "a" }))` or an HTTP response. Fails (an `error`
 * event) with a {@link CameraGrpcError}: NOT_FOUND for a recording or file that does not exist, INVALID_ARGUMENT
 * for an offset beyond the end, UNAVAILABLE when the service goes away (resume with `offset: position`).
 * Destroying it cancels the download.
 */
export class RecordingFileDownload extends Transform {
  /** The file's whole size, bytes, from the first chunk on (undefined before it, and when nothing was left to send). */
  sizeBytes?: number;
  /** Where the next byte is in the file: `offset` plus the bytes received; resume a broken download from here. */
  position: number;

  constructor(
    /** Where the download started in the file, bytes. */
    readonly offset: number,
  ) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.position = offset;
  }

  override _transform(chunk: DownloadRecordingFileResponse, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.offset !== this.position) {
      callback(
        new CameraGrpcError(
          Status.DATA_LOSS,
          `the download's chunk starts at byte ${chunk.offset}, expected ${this.position}`,
          { reason: DOWNLOAD_GAP, domain: CLIENT_ERROR_DOMAIN },
        ),
      );
      return;
    }
    if (this.sizeBytes === undefined) {
      this.sizeBytes = chunk.sizeBytes;
      this.emit("size", chunk.sizeBytes);
    }
    const data = toBuffer(chunk.data ?? new Uint8Array());
    this.position += data.length;
    callback(null, data);
  }

  /**
   * Feed it from a DownloadRecordingFile call: chunks in order, the call's failure as a CameraGrpcError
   * (`wrap`), and the call cancelled when this stream is destroyed before the end.
   */
  follow(call: ClientReadableStream<DownloadRecordingFileResponse>, wrap: (error: unknown) => CameraGrpcError): this {
    let ended = false;
    call.on("error", (error: unknown) => {
      ended = true;
      this.destroy(wrap(error));
    });
    call.on("end", () => {
      ended = true;
    });
    this.on("close", () => {
      if (!ended) {
        call.cancel();
      }
    });
    call.pipe(this);
    return this;
  }
}
