// The NestJS module against a running camera service (simulated camera). The service's address comes
// from CAMERA_GRPC_URL (tests/test_nestjs_client.py starts the service and runs `npm test`).
// Imports the built package (dist/), as a NestJS back end would.
import "reflect-metadata";

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";

import { status } from "@grpc/grpc-js";
import { Inject, Injectable, Module, type INestApplicationContext } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { firstValueFrom, take, toArray } from "rxjs";

import {
  CAMERA_ERROR_DOMAIN,
  CLIENT_ERROR_DOMAIN,
  CameraClient,
  CameraDriver,
  CameraGrpcError,
  CameraModule,
  DEFAULT_CHANNEL_OPTIONS,
  FrameEncoding,
  INVALID_REQUEST,
  ImageFormat,
  cameraHttpError,
  PixelFormat,
  grpcClientOptions,
  type CameraModuleOptions,
  type CaptureRequest,
} from "../dist";
import { rejection, startApp } from "./support/camera";

const url = process.env.CAMERA_GRPC_URL;
if (!url) {
  throw new Error("CAMERA_GRPC_URL is not set: the address of a running camera-grpc service (host:port)");
}
const serviceUrl: string = url;

const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

/** The legacy HTTP CameraService of the seed README, ported to the gRPC module (as in README.md). */
@Injectable()
class LegacyCameraService {
  constructor(@Inject(CameraClient) private readonly camera: CameraClient) {}

  capture(exposure?: number, gain?: number) {
    return this.camera.capture({ exposureMs: exposure, gainDb: gain });
  }

  getSettings() {
    return this.camera.getSettings();
  }

  updateSettings(settings: { exposure?: number; gain?: number }) {
    return this.camera.updateSettings({ exposureMs: settings.exposure, gainDb: settings.gain });
  }
}

async function startLegacyApp(options: CameraModuleOptions): Promise<INestApplicationContext> {
  return startApp(options, [LegacyCameraService]);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

// Capture-deadline tests run before any Frames stream, so that their timing does not depend on how a
// capture is served from an acquisition that is still running (lingering) after a stream.
describe("CameraModule options", () => {
  test("defaultDeadlineMs applies to unary calls; the library's own text is only in the cause", async () => {
    const app = await startLegacyApp({ url: serviceUrl, defaultDeadlineMs: 0 });
    try {
      const error = await rejection(app.get(CameraClient).getSettings());
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      assert.equal(error.details, "the camera service did not answer in time");
      assert.equal(error.trusted, false);
      assert.equal(error.reason, undefined);
      assert.match(String((error.cause as { details?: string }).details), /[Dd]eadline/);
    } finally {
      await app.close();
    }
  });

  test("a capture's deadline is the default plus its exposure (or the camera's longest one)", async () => {
    const app = await startLegacyApp({ url: serviceUrl, defaultDeadlineMs: 800 });
    try {
      const camera = app.get(CameraClient);
      const before = await camera.getSettings();
      // Takes ~1.25 s: more than the 800 ms default, less than 800 + 1200.
      const saved = await camera.capture({ exposureMs: 1200 });
      assert.equal(saved.exposureMs, 1200);
      // No exposure given: 800 ms + maxExposureMs (10 s on the simulated camera) for the current 1200 ms.
      const again = await camera.capture();
      assert.equal(again.exposureMs, 1200);
      // A per-call deadline is taken as it is.
      const error = await rejection(camera.capture({ exposureMs: 1200 }, { deadlineMs: 300 }));
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      await camera.updateSettings({ exposureMs: before.exposureMs }, { deadlineMs: 10_000 }); // the exposure is kept
    } finally {
      await app.close();
    }
  });

  test("registerAsync takes the options from a factory with injected dependencies", async () => {
    const CONFIG = Symbol("CONFIG");
    @Module({ providers: [{ provide: CONFIG, useValue: { cameraUrl: serviceUrl } }], exports: [CONFIG] })
    class ConfigModule {}
    @Module({
      imports: [
        CameraModule.registerAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { cameraUrl: string }) => ({ url: config.cameraUrl }),
        }),
      ],
    })
    class AsyncAppModule {}
    const app = await NestFactory.createApplicationContext(AsyncAppModule, { logger: false });
    try {
      const settings = await app.get(CameraClient).getSettings();
      assert.equal(settings.connected, true);
    } finally {
      await app.close();
    }
  });

  test("an unreachable service is UNAVAILABLE, without the library's internal text in the message", async () => {
    const port = await closedPort();
    const app = await startLegacyApp({ url: `127.0.0.1:${port}` });
    try {
      const started = Date.now();
      const error = await rejection(app.get(CameraClient).getSettings());
      assert.ok(Date.now() - started < 5_000, "fails at once, not at the deadline");
      assert.equal(error.code, status.UNAVAILABLE);
      assert.equal(error.message, "UNAVAILABLE: the camera service is unavailable; retry later");
      assert.doesNotMatch(error.message, /ECONNREFUSED|127\.0\.0\.1/);
      assert.equal(error.trusted, false);
      const cause = error.cause as { code?: number; details?: string };
      assert.equal(cause.code, status.UNAVAILABLE);
      assert.match(String(cause.details), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    } finally {
      await app.close();
    }
  });

  test("the channel reconnects after 250 ms, then at most every second (overridable)", () => {
    const defaults = grpcClientOptions({ url: serviceUrl }).options.channelOptions ?? {};
    assert.equal(defaults["grpc.initial_reconnect_backoff_ms"], 250);
    assert.equal(defaults["grpc.max_reconnect_backoff_ms"], 1000);
    assert.deepEqual(DEFAULT_CHANNEL_OPTIONS, defaults);
    const custom = grpcClientOptions({ url: serviceUrl, channelOptions: { "grpc.max_reconnect_backoff_ms": 5000 } });
    assert.equal(custom.options.channelOptions?.["grpc.max_reconnect_backoff_ms"], 5000);
    assert.equal(custom.options.channelOptions?.["grpc.initial_reconnect_backoff_ms"], 250);
  });
});

describe("CameraModule against a running service", () => {
  let app: INestApplicationContext;
  let camera: CameraClient;

  before(async () => {
    app = await startLegacyApp({ url: serviceUrl });
    camera = app.get(CameraClient);
  });

  after(async () => {
    await app.close();
  });

  test("getCameraInfo: camelCase fields, enum names", async () => {
    const info = await camera.getCameraInfo();
    assert.equal(info.driver, CameraDriver.CAMERA_DRIVER_SIMULATED);
    assert.equal(info.sensorWidth, 2448);
    assert.equal(info.sensorHeight, 2048);
    assert.ok(info.supportedPixelFormats.includes(PixelFormat.PIXEL_FORMAT_MONO8), String(info.supportedPixelFormats));
    assert.ok(info.minExposureMs > 0 && info.maxExposureMs > info.minExposureMs);
    assert.equal(info.connected, true);
    assert.equal(typeof info.cameraName, "string", "defaults: true makes every field present");
  });

  test("updateSettings changes only the fields given; getSettings reads them back", async () => {
    const before = await camera.getSettings();
    const applied = await camera.updateSettings({ gainDb: 6 });
    assert.equal(applied.gainDb, 6);
    assert.equal(applied.exposureMs, before.exposureMs);
    const current = await camera.getSettings();
    assert.equal(current.gainDb, 6);
    assert.equal(current.connected, true);
    assert.equal(current.pixelFormat, PixelFormat.PIXEL_FORMAT_MONO8);
    await camera.updateSettings({ gainDb: before.gainDb });
  });

  test("capture saves a frame and can return its bytes; 64-bit integers are numbers", async () => {
    const saved = await camera.capture({ exposureMs: 5, format: ImageFormat.IMAGE_FORMAT_PNG, includeImageData: true });
    assert.equal(saved.format, ImageFormat.IMAGE_FORMAT_PNG);
    assert.equal(saved.exposureMs, 5);
    assert.match(saved.filename, /^capture_\d{8}_\d{6}_\d{6}_\d+\.png$/);
    assert.equal(typeof saved.sizeBytes, "number");
    assert.equal(typeof saved.frameNumber, "number");
    assert.ok(Buffer.isBuffer(saved.imageData));
    assert.equal(saved.imageData.length, saved.sizeBytes);
    assert.ok(saved.imageData.subarray(0, 4).equals(PNG_MAGIC));
    assert.ok(saved.capturedAt instanceof Date);
    assert.ok(Math.abs(saved.capturedAt.getTime() - Date.now()) < 60_000);
  });

  test("imageData is absent unless asked for; capturedAt is a Date everywhere", async () => {
    const saved = await camera.capture({ format: ImageFormat.IMAGE_FORMAT_JPEG });
    assert.equal(saved.imageData, undefined);
    assert.equal("imageData" in saved, false);
    assert.ok(saved.capturedAt instanceof Date);
    assert.equal(JSON.parse(JSON.stringify(saved)).capturedAt, saved.capturedAt.toISOString());
    const page = await camera.listCaptures({ pageSize: 1 });
    assert.ok(page.captures[0].capturedAt instanceof Date);
    assert.equal(page.captures[0].capturedAt.getTime(), saved.capturedAt.getTime());
    const stored = await camera.getCapture(saved.filename);
    assert.ok(stored.capture?.capturedAt instanceof Date);
    assert.ok(Buffer.isBuffer(stored.data));
    // Frames: in "frames: a finite stream" (a stream here would change the timing of the deadline tests).
  });

  test("an enum given by an unknown name is refused before the call, naming the field and the allowed names", async () => {
    const error = await rejection(camera.capture({ format: "png" as ImageFormat }));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.trusted, true);
    assert.equal(error.domain, CLIENT_ERROR_DOMAIN);
    assert.equal(error.reason, INVALID_REQUEST);
    assert.deepEqual(
      error.fieldViolations.map((violation) => violation.field),
      ["format"],
    );
    for (const name of Object.values(ImageFormat)) {
      assert.ok(error.details.includes(name), `${name} is named in ${error.details}`);
    }
    assert.match(error.details, /^format must be one of .* not "png"$/);
    await assert.rejects(
      firstValueFrom(camera.frames({ encoding: "jpeg" as FrameEncoding })),
      (failure: unknown) =>
        failure instanceof CameraGrpcError && failure.code === status.INVALID_ARGUMENT && /^encoding must be one of/.test(failure.details),
    );
  });

  test("unknown fields and values of the wrong type are refused too (nothing is silently dropped or converted)", async () => {
    const unknown = await rejection(camera.capture({ exposure: 5 } as Partial<CaptureRequest>));
    assert.equal(unknown.code, status.INVALID_ARGUMENT);
    assert.match(unknown.details, /^exposure is not a field of CaptureRequest \(its fields: exposureMs, gainDb, /);
    const wrongType = await rejection(camera.updateSettings({ exposureMs: "100" as unknown as number }));
    assert.equal(wrongType.code, status.INVALID_ARGUMENT);
    assert.deepEqual(wrongType.fieldViolations, [{ field: "exposureMs", description: 'must be a number, not "100"' }]);
    const notInteger = await rejection(camera.listCaptures({ pageSize: 1.5 }));
    assert.match(notInteger.details, /^pageSize must be an integer/);
  });

  test("listCaptures and getCapture return a saved capture's metadata and bytes", async () => {
    const saved = await camera.capture({ format: ImageFormat.IMAGE_FORMAT_JPEG, includeImageData: true });
    const page = await camera.listCaptures({ pageSize: 1 });
    assert.equal(page.captures.length, 1);
    assert.equal(page.captures[0].filename, saved.filename, "newest first");
    assert.equal(typeof page.captures[0].sizeBytes, "number");
    const stored = await camera.getCapture(saved.filename);
    assert.equal(stored.contentType, "image/jpeg");
    assert.ok(saved.imageData !== undefined && stored.data.equals(saved.imageData));
    const missing = await rejection(camera.getCapture("../etc/passwd"));
    assert.equal(missing.code, status.NOT_FOUND);
  });

  test("deleteCapture removes a saved capture; deleting it again is NOT_FOUND, HTTP 404", async () => {
    const saved = await camera.capture({ format: ImageFormat.IMAGE_FORMAT_JPEG });
    // Newest first: the capture just made is on the first page (of 50).
    const listed = async () => (await camera.listCaptures()).captures.map((entry) => entry.filename);
    assert.ok((await listed()).includes(saved.filename));
    await camera.deleteCapture(saved.filename);
    assert.ok(!(await listed()).includes(saved.filename), "still listed after deleteCapture");
    assert.equal((await rejection(camera.getCapture(saved.filename))).code, status.NOT_FOUND);
    const again = await rejection(camera.deleteCapture(saved.filename));
    assert.equal(again.code, status.NOT_FOUND);
    assert.equal(cameraHttpError(again).status, 404);
    assert.equal((await rejection(camera.deleteCapture("../etc/passwd"))).code, status.NOT_FOUND);
  });

  test("the legacy CameraService API works unchanged on top of the module", async () => {
    const legacy = app.get(LegacyCameraService);
    const saved = await legacy.capture(4, 1);
    assert.equal(saved.exposureMs, 4);
    assert.equal(saved.gainDb, 1);
    assert.equal(saved.imageData, undefined, "no bytes unless asked for");
    const applied = await legacy.updateSettings({ exposure: 3 });
    assert.equal(applied.exposureMs, 3);
    assert.equal((await legacy.getSettings()).exposureMs, 3);
  });

  test("a per-call deadline: DEADLINE_EXCEEDED", async () => {
    const before = await camera.getSettings();
    const error = await rejection(camera.capture({ exposureMs: 1000 }, { deadlineMs: 300 }));
    assert.equal(error.code, status.DEADLINE_EXCEEDED);
    assert.equal(error.codeName, "DEADLINE_EXCEEDED");
    await camera.updateSettings({ exposureMs: before.exposureMs }); // applied exposures are kept: restore
    assert.equal((await camera.getSettings()).exposureMs, before.exposureMs);
  });

  test("frames: a finite stream of encoded frames", async () => {
    const frames = await firstValueFrom(
      camera
        .frames({ maxFrames: 3, encoding: FrameEncoding.FRAME_ENCODING_JPEG, maxWidth: 160 })
        .pipe(toArray()),
    );
    assert.deepEqual(
      frames.map((frame) => frame.sequenceNumber),
      [1, 2, 3],
    );
    for (const frame of frames) {
      assert.equal(frame.encoding, FrameEncoding.FRAME_ENCODING_JPEG);
      assert.equal(frame.width, 160);
      assert.equal(typeof frame.frameNumber, "number");
      assert.equal(typeof frame.missedFrames, "number");
      assert.ok(Buffer.isBuffer(frame.data));
      assert.ok(frame.data.subarray(0, 3).equals(JPEG_MAGIC));
      assert.ok(frame.capturedAt instanceof Date);
    }
    const numbers = frames.map((frame) => frame.frameNumber);
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
  });

  test("frames: unsubscribing (take) ends an endless stream", async () => {
    const frames = await firstValueFrom(
      camera.frames({ encoding: FrameEncoding.FRAME_ENCODING_JPEG, maxWidth: 64 }).pipe(take(2), toArray()),
    );
    assert.equal(frames.length, 2);
  });

  test("an invalid exposure is INVALID_ARGUMENT with the service's message", async () => {
    const error = await rejection(camera.updateSettings({ exposureMs: -1 }));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.codeName, "INVALID_ARGUMENT");
    assert.match(error.details, /exposure_ms/);
    assert.equal(error.message, `INVALID_ARGUMENT: ${error.details}`);
    // The rich details of grpc-status-details-bin, decoded.
    assert.equal(error.reason, "INVALID_SETTING");
    assert.equal(error.domain, CAMERA_ERROR_DOMAIN);
    assert.equal(error.trusted, true);
    assert.deepEqual(error.fieldViolations, [
      { field: "exposure_ms", description: "must be between 0.01 and 10000 (milliseconds)" },
    ]);
    const capture = await rejection(camera.capture({ exposureMs: Number.NaN }));
    assert.equal(capture.code, status.INVALID_ARGUMENT);
  });

  test("a stream's error reaches the subscriber as CameraGrpcError", async () => {
    await assert.rejects(
      firstValueFrom(camera.frames({ encoding: FrameEncoding.FRAME_ENCODING_JPEG, quality: 0 })),
      (error: unknown) =>
        error instanceof CameraGrpcError && error.code === status.INVALID_ARGUMENT && /quality/.test(error.details),
    );
  });

  test("a deadline on a stream ends it with DEADLINE_EXCEEDED", async () => {
    await assert.rejects(
      firstValueFrom(
        camera.frames({ encoding: FrameEncoding.FRAME_ENCODING_JPEG, maxWidth: 64 }, { deadlineMs: 300 }).pipe(toArray()),
      ),
      (error: unknown) => error instanceof CameraGrpcError && error.code === status.DEADLINE_EXCEEDED,
    );
  });
});
