import { Metadata, type CallOptions as GrpcCallOptions } from "@grpc/grpc-js";
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from "@nestjs/common";
import type { ClientGrpcProxy } from "@nestjs/microservices";
import { catchError, lastValueFrom, throwError, type Observable } from "rxjs";

import { CameraGrpcError } from "./camera.errors";
import { CAMERA_GRPC_CLIENT, CAMERA_MODULE_OPTIONS, DEFAULT_DEADLINE_MS, type CameraModuleOptions } from "./camera.options";
import {
  CAMERA_SERVICE_NAME,
  type CameraServiceClient,
  type CaptureRequest,
  type CaptureResponse,
  type FramesRequest,
  type FramesResponse,
  type GetCameraInfoResponse,
  type GetCaptureResponse,
  type GetSettingsResponse,
  type ListCapturesRequest,
  type ListCapturesResponse,
  type UpdateSettingsRequest,
  type UpdateSettingsResponse,
} from "./generated/camera/v1/camera";

/** Per-call options. */
export interface CameraCallOptions {
  /**
   * Deadline, ms from now. Unary calls default to the module's `defaultDeadlineMs` (10 s);
   * `frames` has none unless given. `Infinity` means no deadline.
   */
  deadlineMs?: number;
  /** Request metadata (headers) sent with the call. */
  metadata?: Metadata;
}

/**
 * The camera service for a NestJS application: inject it where the legacy HTTP CameraService was.
 * Unary calls return Promises; `frames` returns an Observable (unsubscribing cancels the stream).
 * Every failure rejects / errors with a {@link CameraGrpcError} carrying the gRPC code and message.
 */
@Injectable()
export class CameraClient implements OnModuleInit, OnModuleDestroy {
  private service?: CameraServiceClient;

  constructor(
    @Inject(CAMERA_GRPC_CLIENT) private readonly grpc: ClientGrpcProxy,
    @Inject(CAMERA_MODULE_OPTIONS) private readonly options: CameraModuleOptions,
  ) {}

  onModuleInit(): void {
    this.service = this.grpc.getService<CameraServiceClient>(CAMERA_SERVICE_NAME);
  }

  onModuleDestroy(): void {
    this.grpc.close();
  }

  /**
   * Capture one frame and save it on the service's host. `exposureMs`/`gainDb` are applied first and
   * kept; `includeImageData: true` also returns the file's bytes (`imageData`, a Buffer).
   */
  capture(request: Partial<CaptureRequest> = {}, options?: CameraCallOptions): Promise<CaptureResponse> {
    return this.unary((service, ...args) => service.capture(request as CaptureRequest, ...args), options);
  }

  /** The camera's current settings (`connected: false` with the last known values while disconnected). */
  getSettings(options?: CameraCallOptions): Promise<GetSettingsResponse> {
    return this.unary((service, ...args) => service.getSettings({}, ...args), options);
  }

  /** Change the settings given, all or nothing; resolves to what the camera applied. */
  updateSettings(request: UpdateSettingsRequest, options?: CameraCallOptions): Promise<UpdateSettingsResponse> {
    return this.unary((service, ...args) => service.updateSettings(request, ...args), options);
  }

  /** Model, serial number, sensor size and the valid exposure and gain ranges. */
  getCameraInfo(options?: CameraCallOptions): Promise<GetCameraInfoResponse> {
    return this.unary((service, ...args) => service.getCameraInfo({}, ...args), options);
  }

  /** Saved captures, newest first, one page (`nextPageToken` is empty on the last page). */
  listCaptures(request: Partial<ListCapturesRequest> = {}, options?: CameraCallOptions): Promise<ListCapturesResponse> {
    return this.unary((service, ...args) => service.listCaptures(request as ListCapturesRequest, ...args), options);
  }

  /** One saved capture's bytes (`data`), content type and metadata; NOT_FOUND unless it is a listed capture. */
  getCapture(filename: string, options?: CameraCallOptions): Promise<GetCaptureResponse> {
    return this.unary((service, ...args) => service.getCapture({ filename }, ...args), options);
  }

  /**
   * Live frames. Cold: each subscription opens its own stream, and unsubscribing cancels it.
   * Completes after `maxFrames`; errors (e.g. UNAVAILABLE when the camera disconnects) as CameraGrpcError.
   */
  frames(request: Partial<FramesRequest> = {}, options?: CameraCallOptions): Observable<FramesResponse> {
    const [metadata, callOptions] = this.callArguments(options?.deadlineMs, options);
    return this.connected()
      .frames(request as FramesRequest, metadata, callOptions)
      .pipe(catchError((error: unknown) => throwError(() => CameraGrpcError.from(error))));
  }

  private unary<T>(
    call: (service: CameraServiceClient, metadata: Metadata, options: GrpcCallOptions) => Observable<T>,
    options?: CameraCallOptions,
  ): Promise<T> {
    const deadlineMs = options?.deadlineMs ?? this.options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS;
    return lastValueFrom(call(this.connected(), ...this.callArguments(deadlineMs, options))).catch(
      (error: unknown) => {
        throw CameraGrpcError.from(error);
      },
    );
  }

  private callArguments(deadlineMs: number | undefined, options?: CameraCallOptions): [Metadata, GrpcCallOptions] {
    const callOptions: GrpcCallOptions = {};
    if (deadlineMs !== undefined && Number.isFinite(deadlineMs)) {
      callOptions.deadline = new Date(Date.now() + deadlineMs);
    }
    return [options?.metadata ?? new Metadata(), callOptions];
  }

  private connected(): CameraServiceClient {
    if (this.service === undefined) {
      // Before the module's init hook (e.g. in a constructor): resolve now.
      this.onModuleInit();
    }
    return this.service as CameraServiceClient;
  }
}
