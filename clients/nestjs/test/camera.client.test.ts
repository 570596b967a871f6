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
  CameraClient,
  CameraDriver,
  CameraGrpcError,
  CameraModule,
  FrameEncoding,
  ImageFormat,
  PixelFormat,
  type CameraModuleOptions,
} from "../dist";

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

async function startApp(options: CameraModuleOptions): Promise<INestApplicationContext> {
  @Module({ imports: [CameraModule.register(options)], providers: [LegacyCameraService] })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false });
}

async function rejection(promise: Promise<unknown>): Promise<CameraGrpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CameraGrpcError, `not a CameraGrpcError: ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded");
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
  test("defaultDeadlineMs applies to unary calls", async () => {
    const app = await startApp({ url: serviceUrl, defaultDeadlineMs: 300 });
    try {
      const camera = app.get(CameraClient);
      const before = await camera.getSettings();
      const error = await rejection(camera.capture({ exposureMs: 1000 }));
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

  test("an unreachable service is UNAVAILABLE", async () => {
    const app = await startApp({ url: `127.0.0.1:${await closedPort()}` });
    try {
      const error = await rejection(app.get(CameraClient).getSettings());
      assert.equal(error.code, status.UNAVAILABLE);
    } finally {
      await app.close();
    }
  });
});

describe("CameraModule against a running service", () => {
  let app: INestApplicationContext;
  let camera: CameraClient;

  before(async () => {
    app = await startApp({ url: serviceUrl });
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
    assert.deepEqual(info.supportedPixelFormats, [PixelFormat.PIXEL_FORMAT_MONO8]);
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
    assert.ok(Buffer.from(saved.imageData.subarray(0, 4)).equals(PNG_MAGIC));
    assert.ok(saved.capturedAt !== undefined && saved.capturedAt !== null);
    assert.ok(Math.abs(saved.capturedAt.seconds - Date.now() / 1000) < 60);
  });

  test("listCaptures and getCapture return a saved capture's metadata and bytes", async () => {
    const saved = await camera.capture({ format: ImageFormat.IMAGE_FORMAT_JPEG, includeImageData: true });
    const page = await camera.listCaptures({ pageSize: 1 });
    assert.equal(page.captures.length, 1);
    assert.equal(page.captures[0].filename, saved.filename, "newest first");
    assert.equal(typeof page.captures[0].sizeBytes, "number");
    const stored = await camera.getCapture(saved.filename);
    assert.equal(stored.contentType, "image/jpeg");
    assert.ok(Buffer.from(stored.data).equals(Buffer.from(saved.imageData)));
    const missing = await rejection(camera.getCapture("../etc/passwd"));
    assert.equal(missing.code, status.NOT_FOUND);
  });

  test("the legacy CameraService API works unchanged on top of the module", async () => {
    const legacy = app.get(LegacyCameraService);
    const saved = await legacy.capture(4, 1);
    assert.equal(saved.exposureMs, 4);
    assert.equal(saved.gainDb, 1);
    assert.equal(saved.imageData.length, 0, "no bytes unless asked for");
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
      assert.ok(Buffer.from(frame.data.subarray(0, 3)).equals(JPEG_MAGIC));
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
