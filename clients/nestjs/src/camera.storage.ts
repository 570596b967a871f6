import { recordingName } from "./camera.recordings";
import { toDate } from "./camera.types";
import type { GetDownloadUrlResponse, GetStorageStatusResponse } from "./generated/camera/v1/storage";

// What CameraClient's storage methods (issue 16) resolve to: times as Dates, as everywhere else.

/** The collection of captures' resource names in GetDownloadUrl: `captures/{filename}`. */
export const CAPTURE_COLLECTION = "captures";

/** Where the service keeps captures and recordings (`getStorageStatus()`): `lastUploadTime` is a Date. */
export interface StorageStatus extends Omit<GetStorageStatusResponse, "lastUploadTime"> {
  /** When the last upload to the object store was confirmed; undefined if none yet (or no object store). */
  lastUploadTime?: Date;
}

/** A pre-signed URL of a file in the object store (`getDownloadUrl()`): `expireTime` is a Date. */
export interface DownloadUrl extends Omit<GetDownloadUrlResponse, "expireTime"> {
  /** When the URL stops working. */
  expireTime?: Date;
}

/** GetDownloadUrl's name of a capture: `captures/{filename}`. */
export function captureFileName(filename: string): string {
  return `${CAPTURE_COLLECTION}/${filename}`;
}

/** GetDownloadUrl's name of a recording's file: `recordings/{id}/files/{file}` (the recording by id or name). */
export function recordingFileName(recording: string, file: string): string {
  return `${recordingName(recording)}/files/${file}`;
}

export function toStorageStatus(response: GetStorageStatusResponse): StorageStatus {
  return { ...response, lastUploadTime: toDate(response.lastUploadTime) };
}

export function toDownloadUrl(response: GetDownloadUrlResponse): DownloadUrl {
  return { ...response, expireTime: toDate(response.expireTime) };
}
