import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Sse, StreamableFile, type MessageEvent } from "@nestjs/common";
import {
  CameraClient,
  CameraGrpcError,
  DeliveryPolicy,
  FrameEncoding,
  toSseEvents,
  type Frame,
} from "@camera-grpc/nestjs";
import type { Observable } from "rxjs";

import { captureRequest, settingsUpdate, toSavedCapture, toSettings, type CameraSettings, type SavedCapture } from "./legacy";

/** Deadline of the health check, ms: a probe must answer at once. */
const HEALTH_DEADLINE_MS = 2_000;

/**
 * The legacy HTTP API (that of the old FastAPI service, kept by the REST gateway) on the gRPC client.
 * Errors are answered by CameraGrpcExceptionFilter (app.module.ts), with the gateway's statuses.
 */
@Controller()
export class CameraController {
  constructor(private readonly camera: CameraClient) {}

  /** Service status and camera connectivity; always 200. */
  @Get("health")
  async health(): Promise<{ status: string; camera_connected: boolean; service: string }> {
    try {
      const settings = await this.camera.getSettings({ deadlineMs: HEALTH_DEADLINE_MS });
      return settings.connected
        ? { status: "healthy", camera_connected: true, service: "SERVING" }
        : { status: "degraded", camera_connected: false, service: "NOT_SERVING" };
    } catch (error) {
      if (!(error instanceof CameraGrpcError)) {
        throw error;
      }
      return { status: "unavailable", camera_connected: false, service: "UNREACHABLE" };
    }
  }

  @Get("settings")
  async getSettings(): Promise<CameraSettings> {
    return toSettings(await this.camera.getSettings());
  }

  /** `{ exposure?, gain? }` (ms, dB): all or nothing; answers what the camera applied. */
  @Put("settings")
  async updateSettings(@Body() body: unknown): Promise<CameraSettings> {
    return toSettings(await this.camera.updateSettings(settingsUpdate(body)));
  }

  /**
   * The full settings (camera.v1 CameraSettings, camelCase) with their revision, now and after every change
   * whoever made it, as Server-Sent Events (`watchSettings`); closing the page cancels the watch.
   */
  @Sse("settings/events")
  settingsEvents(): Observable<MessageEvent> {
    return this.camera.watchSettings().pipe(
      toSseEvents((change) => ({ cause: change.cause, connected: change.connected, settings: change.settings })),
    );
  }

  /** `{ exposure?, gain?, format?, quality? }`: capture and save one image on the service's host. */
  @Post("capture")
  @HttpCode(200)
  async capture(@Body() body: unknown): Promise<SavedCapture> {
    return toSavedCapture(await this.camera.capture(captureRequest(body)));
  }

  /** A saved capture's file. */
  @Get("captures/:filename")
  async download(@Param("filename") filename: string): Promise<StreamableFile> {
    const file = await this.camera.getCapture(filename);
    return new StreamableFile(file.data, {
      type: file.contentType,
      disposition: `inline; filename="${file.capture?.filename ?? filename}"`,
    });
  }

  /** Delete a saved capture (its image and metadata); 204, or 404 unless it is a listed capture. */
  @Delete("captures/:filename")
  @HttpCode(204)
  async deleteCapture(@Param("filename") filename: string): Promise<void> {
    await this.camera.deleteCapture(filename);
  }

  /**
   * Live frames as Server-Sent Events, one JPEG (base64) per event. When the camera or the service
   * goes away the stream ends with an `error` event carrying the HTTP status and error body.
   */
  @Sse("frames")
  frames(@Query("max_fps") maxFps?: string, @Query("max_width") maxWidth?: string): Observable<MessageEvent> {
    return this.camera
      .frames({
        encoding: FrameEncoding.FRAME_ENCODING_JPEG,
        policy: DeliveryPolicy.DELIVERY_POLICY_LATEST,
        maxFps: maxFps === undefined ? 5 : Number(maxFps),
        maxWidth: maxWidth === undefined ? 640 : Number(maxWidth),
      })
      .pipe(
        toSseEvents((frame: Frame) => ({
          frame_number: frame.frameNumber,
          sequence_number: frame.sequenceNumber,
          missed_frames: frame.missedFrames,
          width: frame.width,
          height: frame.height,
          captured_at: frame.capturedAt?.toISOString() ?? null,
          jpeg: frame.data.toString("base64"),
        })),
      );
  }
}
