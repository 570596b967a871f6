import { Logger, type MessageEvent } from "@nestjs/common";
import { catchError, map, of, type OperatorFunction } from "rxjs";

import { CameraGrpcError } from "./camera.errors";
import { cameraHttpError, type CameraErrorBody, type ValidationErrorBody } from "./camera.http";

/** `data` of the last event of a stream that failed: the HTTP status and the body an error response would have. */
export type CameraSseErrorData = { status: number } & (CameraErrorBody | ValidationErrorBody);

/** The event type of that last event. */
export const SSE_ERROR_EVENT = "error";

const logger = new Logger("CameraSse");

/**
 * For `@Sse()` handlers: turns each value into a `MessageEvent` (`{ data: project(value) }`) and a
 * failure (the camera disconnected, the service went away, a bad request) into one last event
 *
 * ```
 * event: error
 * data: {"status":503,"detail":"camera is not connected (disconnected)","code":"UNAVAILABLE","reason":"CAMERA_UNAVAILABLE"}
 * ```
 *
 * after which the stream completes. Without it, Nest ends the stream with `data: Internal server
 * error` (the headers are out, so no exception filter can answer any more). `data` is what the
 * REST gateway would answer, plus the HTTP status; the browser's `EventSource` gets it as a
 * `MessageEvent` of type `error` (`event.data` is set, unlike on a connection error).
 *
 * ```ts
 * @Sse("frames")
 * frames(): Observable<MessageEvent> {
 *   return this.camera.frames({ encoding: FrameEncoding.FRAME_ENCODING_JPEG, maxFps: 5 }).pipe(
 *     toSseEvents((frame) => ({ frameNumber: frame.frameNumber, jpeg: frame.data.toString("base64") })),
 *   );
 * }
 * ```
 *
 * `project` should return a string or a JSON-serialisable object: a Buffer would be sent as an array
 * of numbers (base64 it). Default: the value itself.
 */
export function toSseEvents<T, D extends string | object = T & object>(
  project?: (value: T, index: number) => D,
): OperatorFunction<T, MessageEvent> {
  return (source) =>
    source.pipe(
      map((value, index): MessageEvent => ({ data: project ? project(value, index) : (value as unknown as object) })),
      catchError((error: unknown) => {
        const failure = CameraGrpcError.from(error);
        const { status, body } = cameraHttpError(failure, { location: "query" });
        if (status === 500) {
          logger.error(`event stream failed: ${failure.message}`, failure.cause instanceof Error ? failure.cause.stack : undefined);
        }
        const data: CameraSseErrorData = { status, ...body };
        return of<MessageEvent>({ type: SSE_ERROR_EVENT, data });
      }),
    );
}
