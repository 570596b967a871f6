import { once } from "node:events";

import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Param,
  Post,
  Query,
  Res,
  Sse,
  StreamableFile,
  type MessageEvent,
} from "@nestjs/common";
import {
  CameraClient,
  StorageState,
  recordingFileName,
  toSseEvents,
  type RecordingEntry,
  type RecordingPage,
  type StorageStatus,
} from "@camera-grpc/nestjs";
import type { Observable } from "rxjs";

import { rangeStart, recordingRequest } from "./recordings";

/** The part of the HTTP response (Express's, or Fastify's reply) a download sets its status and headers on. */
interface HeaderTarget {
  status(code: number): unknown;
  setHeader(name: string, value: string | number): unknown;
}

/** HTTP 302 Found (to a pre-signed URL), 206 Partial Content and 416 Range Not Satisfiable. */
const FOUND = 302;
const PARTIAL_CONTENT = 206;
const RANGE_NOT_SATISFIABLE = 416;

/**
 * Recordings (issue 14), live statistics (issue 17) and storage (issue 16) on the module: start a recording,
 * follow its progress as Server-Sent Events, download its files (resumable with `Range: bytes=N-`).
 * Errors are answered by CameraGrpcExceptionFilter (app.module.ts): an unknown recording is a 404.
 */
@Controller()
export class RecordingsController {
  constructor(private readonly camera: CameraClient) {}

  /** Start a recording (body: see recordingRequest); 201 with the recording (RUNNING). */
  @Post("recordings")
  startRecording(@Body() body: unknown): Promise<RecordingEntry> {
    return this.camera.startRecording(recordingRequest(body));
  }

  /** Recordings, newest first, one page (`page_size`, `page_token`). */
  @Get("recordings")
  listRecordings(@Query("page_size") pageSize?: string, @Query("page_token") pageToken?: string): Promise<RecordingPage> {
    return this.camera.listRecordings({ pageSize: pageSize === undefined ? undefined : Number(pageSize), pageToken });
  }

  /** One recording with its progress and files. */
  @Get("recordings/:id")
  getRecording(@Param("id") id: string): Promise<RecordingEntry> {
    return this.camera.getRecording(id);
  }

  /** Stop a running recording; the recording in its final state. */
  @Post("recordings/:id/stop")
  @HttpCode(200)
  stopRecording(@Param("id") id: string): Promise<RecordingEntry> {
    return this.camera.stopRecording(id);
  }

  /** Delete a recording that is not running, and its files; 204. */
  @Delete("recordings/:id")
  @HttpCode(204)
  async deleteRecording(@Param("id") id: string): Promise<void> {
    await this.camera.deleteRecording(id);
  }

  /**
   * A recording's progress as Server-Sent Events: the recording now, then on every change, until the event with
   * its final state, after which the stream ends (an `error` event with the HTTP status if it cannot be watched).
   */
  @Sse("recordings/:id/events")
  recordingEvents(@Param("id") id: string): Observable<MessageEvent> {
    return this.camera.watchRecording(id).pipe(
      toSseEvents((recording: RecordingEntry) => ({
        name: recording.name,
        state: recording.state,
        framesWritten: recording.framesWritten,
        framesDropped: recording.framesDropped,
        bytesWritten: recording.bytesWritten,
        rateFps: recording.rateFps,
        failureReason: recording.failureReason,
        endTime: recording.endTime?.toISOString() ?? null,
      })),
    );
  }

  /**
   * One file of a recording, streamed from the service as it downloads (never held whole in memory). With
   * `Range: bytes=N-` only the bytes from N on (206 Partial Content), to resume a broken download. A file the
   * service has uploaded to its object store is a redirect (302) to a pre-signed URL of it, so large files pass
   * through neither the service nor this app; `?via=service` streams it from the service instead (for
   * clients that cannot reach the store).
   */
  @Get("recordings/:id/files/:file")
  async downloadFile(
    @Param("id") id: string,
    @Param("file") file: string,
    @Headers("range") range: string | undefined,
    @Query("via") via: string | undefined,
    @Res({ passthrough: true }) response: HeaderTarget,
  ): Promise<StreamableFile | undefined> {
    const recording = await this.camera.getRecording(id);
    const listed = recording.files.find((entry) => entry.name === file);
    if (listed?.location?.state === StorageState.STORAGE_STATE_UPLOADED && via !== "service") {
      const signed = await this.camera.getDownloadUrl(recordingFileName(recording.name, file));
      response.status(FOUND);
      response.setHeader("Location", signed.url);
      return undefined;
    }
    const size = listed?.sizeBytes;
    const start = rangeStart(range);
    response.setHeader("Accept-Ranges", "bytes");
    if (start !== undefined && size !== undefined && start >= size) {
      response.setHeader("Content-Range", `bytes */${size}`);
      throw new HttpException({ detail: `the file has ${size} bytes; the range starts at ${start}` }, RANGE_NOT_SATISFIABLE);
    }
    const download = this.camera.downloadRecordingFile(id, file, { offset: start ?? 0 });
    await once(download, "readable"); // the service's refusal (a file it does not have: 404) before any header
    download.on("error", () => undefined); // a later failure: StreamableFile logs it and ends the response
    const total = download.sizeBytes ?? size ?? 0;
    if (start !== undefined) {
      response.status(PARTIAL_CONTENT);
      response.setHeader("Content-Range", `bytes ${start}-${total - 1}/${total}`);
    }
    return new StreamableFile(download, {
      type: listed?.contentType ?? "application/octet-stream",
      length: total - (start ?? 0),
      disposition: `attachment; filename="${file}"`,
    });
  }

  /** A small JPEG of a recording's first frame (`max_width` pixels, 16 to 1024; default 256). */
  @Get("recordings/:id/thumbnail")
  async recordingThumbnail(@Param("id") id: string, @Query("max_width") maxWidth?: string): Promise<StreamableFile> {
    const thumbnail = await this.camera.getRecordingThumbnail(id, maxWidth === undefined ? undefined : Number(maxWidth));
    return new StreamableFile(thumbnail.data, { type: thumbnail.contentType });
  }

  /** A small JPEG of a saved capture (`max_width` pixels, 16 to 1024; default 256), made and cached by the service. */
  @Get("captures/:filename/thumbnail")
  async captureThumbnail(@Param("filename") filename: string, @Query("max_width") maxWidth?: string): Promise<StreamableFile> {
    const thumbnail = await this.camera.getCaptureThumbnail(filename, maxWidth === undefined ? 256 : Number(maxWidth));
    return new StreamableFile(thumbnail.data, { type: thumbnail.contentType });
  }

  /**
   * Live pixel statistics as Server-Sent Events (no pixels): per frame its number, the histogram per channel
   * (`bins`, default 256), minimum, maximum, mean, saturated fraction and the focus score, at most `max_fps`.
   */
  @Sse("statistics")
  statistics(@Query("max_fps") maxFps?: string, @Query("bins") bins?: string): Observable<MessageEvent> {
    return this.camera
      .frameStatistics({
        maxFps: maxFps === undefined ? 5 : Number(maxFps),
        histogramBins: bins === undefined ? undefined : Number(bins),
      })
      .pipe(toSseEvents((sample) => ({ frameNumber: sample.frameNumber, ...sample.statistics })));
  }

  /** Where the service keeps captures and recordings (local folders or an object store), and its spool. */
  @Get("storage")
  storage(): Promise<StorageStatus> {
    return this.camera.getStorageStatus();
  }
}
