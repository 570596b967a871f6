// Recordings (issue 14), frame statistics and thumbnails (issue 17) and storage (issue 16) against a service of
// their own (CAMERA_TEST_RECORDING_URL, started by tests/test_nestjs_client.py, which also gives the folder it
// records into, CAMERA_TEST_RECORDINGS_DIR, so downloads are compared with the files themselves): a recording
// holds the geometry while it runs, and these tests make the frames small.
import "reflect-metadata";

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";

import { status } from "@grpc/grpc-js";
import { type INestApplicationContext } from "@nestjs/common";
import { filter, firstValueFrom, lastValueFrom, shareReplay, toArray } from "rxjs";

import {
  CLIENT_ERROR_DOMAIN,
  CameraClient,
  CameraGrpcError,
  EventType,
  FrameEncoding,
  ImageFormat,
  RECORDING_STATE,
  RecordingFormat,
  RecordingState,
  StorageBackend,
  StorageState,
  captureFileName,
  cameraHttpError,
  isFinalRecordingState,
  recordingFileName,
  type EventDelivery,
  type RecordingEntry,
} from "../dist";
import { rejection, startApp } from "./support/camera";

const recordingUrl = process.env.CAMERA_TEST_RECORDING_URL;
const recordingsDir = process.env.CAMERA_TEST_RECORDINGS_DIR;
if (!recordingUrl || !recordingsDir) {
  throw new Error(
    "CAMERA_TEST_RECORDING_URL and CAMERA_TEST_RECORDINGS_DIR are not set: a camera-grpc service for the recording " +
      "tests and the folder it records into (its RECORDINGS_PATH)",
  );
}
const serviceUrl: string = recordingUrl;
const folder: string = recordingsDir;

/** The recordings' frames: small, so files of many frames and several download chunks stay quick. */
const ROI = { width: 256, height: 256 };
/** Frames of the recording whose file is downloaded: 40 x 64 KiB, more than two of the service's 1 MiB chunks. */
const DOWNLOAD_FRAMES = 40;
/** An offset inside a chunk, to resume from. */
const ODD_OFFSET = 12_345;
/** Histogram bins asked for. */
const HISTOGRAM_BINS = 16;
/** Width of the thumbnails asked for, pixels. */
const THUMBNAIL_WIDTH = 64;
/** Frames of the recordings made for the events test, and most such recordings made while waiting for the watch. */
const EVENT_FRAMES = 3;
const MAX_RECORDINGS = 50;
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
const TIFF_MAGICS = [Buffer.from("II*\0", "latin1"), Buffer.from("II+\0", "latin1")];

/** Every byte of a download. */
async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The error a download ends with. */
async function streamFailure(stream: Readable): Promise<CameraGrpcError> {
  return rejection(collect(stream));
}

/** Whether a promise has settled (without waiting for it). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol("pending");
  const outcome = await Promise.race([promise.then(() => true, () => true), new Promise((resolve) => setImmediate(resolve, pending))]);
  return outcome !== pending;
}

/** A JPEG's width and height from its start-of-frame segment. */
function jpegSize(jpeg: Buffer): { width: number; height: number } {
  assert.deepEqual(jpeg.subarray(0, 3), JPEG_MAGIC, "not a JPEG");
  let at = 2;
  while (at + 9 < jpeg.length) {
    assert.equal(jpeg[at], 0xff, `no JPEG marker at byte ${at}`);
    const marker = jpeg[at + 1];
    if (marker >= 0xc0 && marker <= 0xc2) {
      return { height: jpeg.readUInt16BE(at + 5), width: jpeg.readUInt16BE(at + 7) };
    }
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  assert.fail("no start-of-frame segment in the JPEG");
}

describe("recordings, statistics, thumbnails and storage against a running service", () => {
  let app: INestApplicationContext;
  let camera: CameraClient;

  before(async () => {
    app = await startApp({ url: serviceUrl });
    camera = app.get(CameraClient);
    const applied = await camera.updateSettings({ roi: ROI });
    assert.equal(applied.settings?.roi?.width, ROI.width);
  });

  after(async () => {
    await app.close();
  });

  test("a recording runs to its frame count with its progress watched, and its file downloads whole and resumed", async () => {
    const id = "nest-tiff";
    const started = await camera.startRecording({
      recordingId: id,
      format: RecordingFormat.RECORDING_FORMAT_OME_TIFF,
      maxFrames: DOWNLOAD_FRAMES,
    });
    assert.equal(started.name, `recordings/${id}`);
    assert.equal(started.state, RecordingState.RECORDING_STATE_RUNNING);
    assert.equal(started.maxFrames, DOWNLOAD_FRAMES);
    assert.ok(started.startTime instanceof Date);
    assert.equal(started.endTime, undefined);
    assert.equal(started.settings?.roi?.width, ROI.width);

    // The progress until the final state, which completes the Observable.
    const progress: RecordingEntry[] = await lastValueFrom(camera.watchRecording(id).pipe(toArray()));
    const last = progress[progress.length - 1];
    assert.equal(last.state, RecordingState.RECORDING_STATE_COMPLETED);
    assert.ok(isFinalRecordingState(last.state));
    assert.ok(progress.slice(0, -1).every((entry) => entry.state === RecordingState.RECORDING_STATE_RUNNING));
    const written = progress.map((entry) => entry.framesWritten);
    assert.deepEqual(written, [...written].sort((a, b) => a - b), "frames written never go back");
    assert.equal(last.framesWritten, DOWNLOAD_FRAMES);
    assert.ok(last.framesDropped >= 0); // drops depend on the machine's load: counted, not asserted away
    assert.ok(last.endTime instanceof Date && started.startTime instanceof Date);
    assert.ok(last.endTime.getTime() >= started.startTime.getTime());

    // By id or by name, and in the list.
    const got = await camera.getRecording(id);
    assert.deepEqual(await camera.getRecording(`recordings/${id}`), got);
    assert.equal(got.state, RecordingState.RECORDING_STATE_COMPLETED);
    const listed = await camera.listRecordings({ pageSize: 100 });
    assert.ok(listed.recordings.some((entry) => entry.name === got.name));

    const file = got.files.find((entry) => entry.name.endsWith(".ome.tif"));
    assert.ok(file !== undefined, `no OME-TIFF file in ${JSON.stringify(got.files)}`);
    assert.equal(file.contentType, "image/tiff");
    if (file.location !== undefined) {
      assert.equal(file.location.state, StorageState.STORAGE_STATE_LOCAL);
    }
    const onDisk = readFileSync(join(folder, id, file.name));
    assert.equal(file.sizeBytes, onDisk.length);
    assert.ok(TIFF_MAGICS.some((magic) => onDisk.subarray(0, 4).equals(magic)), "an OME-TIFF file");

    // Whole: equal to the file, its size known from the first chunk on.
    const whole = camera.downloadRecordingFile(id, file.name);
    const bytes = await collect(whole);
    assert.ok(bytes.equals(onDisk), `downloaded ${bytes.length} bytes, the file has ${onDisk.length}`);
    assert.equal(whole.sizeBytes, onDisk.length);
    assert.equal(whole.position, onDisk.length);

    // Broken off after its first chunk (destroying the stream cancels the call), then resumed from where it stopped.
    const broken = camera.downloadRecordingFile(got.name, file.name);
    const iterator = broken[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Buffer;
    assert.ok(first.length > 0 && first.length < onDisk.length, `first chunk ${first.length} of ${onDisk.length}`);
    broken.destroy();
    const rest = await collect(camera.downloadRecordingFile(id, file.name, { offset: first.length }));
    assert.ok(Buffer.concat([first, rest]).equals(onDisk), "the resumed download is the file");

    // From an offset inside a chunk, and from the very end (nothing left).
    const tail = camera.downloadRecordingFile(id, file.name, { offset: ODD_OFFSET });
    assert.ok((await collect(tail)).equals(onDisk.subarray(ODD_OFFSET)));
    assert.equal(tail.offset, ODD_OFFSET);
    assert.equal((await collect(camera.downloadRecordingFile(id, file.name, { offset: onDisk.length }))).length, 0);
  });

  test("failures: NOT_FOUND is HTTP 404, an id in use 409, an offset beyond the end 422, bad requests are refused unsent", async () => {
    const missing = await rejection(camera.getRecording("no-such-recording"));
    assert.equal(missing.code, status.NOT_FOUND);
    assert.match(missing.details, /no-such-recording/);
    const http = cameraHttpError(missing);
    assert.equal(http.status, 404);
    assert.deepEqual(http.body, { detail: missing.details, code: "NOT_FOUND", reason: missing.reason ?? null });

    const watched = await rejection(lastValueFrom(camera.watchRecording("no-such-recording")));
    assert.equal(watched.code, status.NOT_FOUND);
    assert.equal((await rejection(camera.getRecordingThumbnail("no-such-recording"))).code, status.NOT_FOUND);

    const id = "nest-errors";
    await lastValueFrom(camera.watchRecording((await camera.startRecording({ recordingId: id, maxFrames: 2 })).name));
    const taken = await rejection(camera.startRecording({ recordingId: id, maxFrames: 2 }));
    assert.equal(taken.code, status.ALREADY_EXISTS);
    assert.equal(cameraHttpError(taken).status, 409);

    const noFile = await streamFailure(camera.downloadRecordingFile(id, "../recording.json"));
    assert.equal(noFile.code, status.NOT_FOUND);
    assert.equal(cameraHttpError(noFile).status, 404);
    const { files } = await camera.getRecording(id);
    const beyond = await streamFailure(
      camera.downloadRecordingFile(id, files[0].name, { offset: files[0].sizeBytes + 1 }),
    );
    assert.equal(beyond.code, status.INVALID_ARGUMENT);
    assert.match(beyond.details, /offset/);
    assert.equal(cameraHttpError(beyond).status, 422);

    // Refused before sending: a negative offset, an unknown format name, a misspelt field.
    const negative = (() => {
      try {
        camera.downloadRecordingFile(id, files[0].name, { offset: -1 });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(negative instanceof CameraGrpcError);
    assert.equal(negative.code, status.INVALID_ARGUMENT);
    assert.equal(negative.domain, CLIENT_ERROR_DOMAIN);
    assert.deepEqual(negative.fieldViolations.map((violation) => violation.field), ["offset"]);
    const format = await rejection(camera.startRecording({ format: "tiff" as RecordingFormat }));
    assert.equal(format.code, status.INVALID_ARGUMENT);
    assert.match(format.details, /^format must be one of RECORDING_FORMAT_UNSPECIFIED, RECORDING_FORMAT_OME_TIFF/);
    const unknown = await rejection(camera.startRecording({ frames: 10 } as never));
    assert.deepEqual(unknown.fieldViolations.map((violation) => violation.field), ["frames"]);
    const list = await camera.listRecordings();
    assert.ok(!list.recordings.some((entry) => entry.state === RecordingState.RECORDING_STATE_RUNNING), "nothing started");
  });

  test("a recording without a limit runs until stopped; it cannot be deleted while it runs, and then can", async (t) => {
    const id = "nest-stop";
    const started = await camera.startRecording({ recordingId: id, format: RecordingFormat.RECORDING_FORMAT_OME_ZARR });
    t.after(() => camera.stopRecording(id).catch(() => undefined)); // a failed assertion leaves none running
    const running = await firstValueFrom(camera.watchRecording(id).pipe(filter((entry) => entry.framesWritten >= 3)));
    assert.equal(running.state, RecordingState.RECORDING_STATE_RUNNING);
    const busy = await rejection(camera.startRecording({ maxFrames: 1 }));
    assert.equal(busy.code, status.FAILED_PRECONDITION);
    assert.equal(busy.reason, RECORDING_STATE);
    assert.equal(cameraHttpError(busy).status, 409, "a conflict with the recording, not an outage");
    const refused = await rejection(camera.deleteRecording(id));
    assert.equal(refused.code, status.FAILED_PRECONDITION);
    assert.equal(cameraHttpError(refused).status, 409);

    const stopped = await camera.stopRecording(started.name);
    assert.equal(stopped.state, RecordingState.RECORDING_STATE_STOPPED);
    assert.ok(stopped.framesWritten >= running.framesWritten);
    assert.ok(stopped.endTime instanceof Date);
    // Watching an ended recording: its final state at once, then the end.
    assert.deepEqual(await lastValueFrom(camera.watchRecording(id).pipe(toArray())), [await camera.getRecording(id)]);
    const store = stopped.files.find((entry) => entry.name.endsWith(".zip"));
    assert.ok(store !== undefined, `an OME-Zarr store is offered as one zip: ${JSON.stringify(stopped.files)}`);
    const zip = await collect(camera.downloadRecordingFile(id, store.name));
    assert.equal(zip.subarray(0, 2).toString("latin1"), "PK");
    const listed = (await camera.getRecording(id)).files.find((entry) => entry.name === store.name);
    assert.equal(zip.length, listed?.sizeBytes);

    await camera.deleteRecording(id);
    assert.equal((await rejection(camera.getRecording(id))).code, status.NOT_FOUND);
    assert.ok(!existsSync(join(folder, id)), "its files are gone");
  });

  test("a recording's start and end are events of watchEvents, naming the recording", async () => {
    const types = [
      EventType.EVENT_TYPE_RECORDING_STARTED,
      EventType.EVENT_TYPE_RECORDING_ENDED,
      EventType.EVENT_TYPE_RECORDING_FAILED,
    ];
    const deliveries = camera.watchEvents(types).pipe(shareReplay());
    const watching = deliveries.subscribe();
    try {
      const firstStart = firstValueFrom(
        deliveries.pipe(filter((delivery) => delivery.event?.type === EventType.EVENT_TYPE_RECORDING_STARTED)),
      );
      // The watch starts with the subscription: record short recordings until it has seen one start.
      for (let count = 0; count < MAX_RECORDINGS && !(await settled(firstStart)); count += 1) {
        await lastValueFrom(camera.watchRecording((await camera.startRecording({ maxFrames: EVENT_FRAMES })).name));
      }
      const started: EventDelivery = await firstStart;
      const name = started.event?.recording ?? "";
      assert.match(name, /^recordings\//);
      assert.ok(started.event?.time instanceof Date);
      const ended = await firstValueFrom(
        deliveries.pipe(filter((delivery) => delivery.event?.type !== EventType.EVENT_TYPE_RECORDING_STARTED && delivery.event?.recording === name)),
      );
      assert.equal(ended.event?.type, EventType.EVENT_TYPE_RECORDING_ENDED);
      assert.equal(ended.event?.count, EVENT_FRAMES);
      assert.ok((ended.event?.sequenceNumber ?? 0) > (started.event?.sequenceNumber ?? 0));
      assert.equal((await camera.getRecording(name)).framesWritten, EVENT_FRAMES);
    } finally {
      watching.unsubscribe();
    }
  });

  test("frame statistics: a histogram per channel and a focus score for each frame, without the pixels", async () => {
    const samples = await lastValueFrom(
      camera.frameStatistics({ histogramBins: HISTOGRAM_BINS, maxFrames: 2 }).pipe(toArray()),
    );
    assert.equal(samples.length, 2);
    for (const sample of samples) {
      assert.ok(!("data" in sample), "no pixels");
      assert.equal(sample.width, ROI.width);
      const { channels, focusScore, subsampleStep, bitDepth } = sample.statistics;
      assert.equal(bitDepth, 8);
      assert.deepEqual(channels.map((channel) => channel.channel), ["mono"]);
      const [mono] = channels;
      assert.equal(mono.histogram.length, HISTOGRAM_BINS);
      const counted = Math.ceil(ROI.width / subsampleStep) * Math.ceil(ROI.height / subsampleStep);
      assert.equal(mono.histogram.reduce((sum, count) => sum + count, 0), counted);
      assert.ok(mono.min <= mono.mean && mono.mean <= mono.max && mono.max <= 255);
      assert.ok(mono.saturatedFraction >= 0 && mono.saturatedFraction <= 1);
      assert.ok(Number.isFinite(focusScore) && focusScore >= 0);
    }
    // With the pixels: frames() with statistics; without the option, none.
    const [withImage] = await lastValueFrom(
      camera
        .frames({ encoding: FrameEncoding.FRAME_ENCODING_JPEG, maxFrames: 1, statistics: { histogramBins: 4 } })
        .pipe(toArray()),
    );
    assert.deepEqual(withImage.data.subarray(0, 3), JPEG_MAGIC);
    assert.equal(withImage.statistics?.channels[0].histogram.length, 4);
    const [plain] = await lastValueFrom(camera.frames({ encoding: FrameEncoding.FRAME_ENCODING_JPEG, maxFrames: 1 }).pipe(toArray()));
    assert.equal(plain.statistics, undefined);
    // Too many bins: the service names the field and the range (HTTP 422).
    const tooMany = await rejection(firstValueFrom(camera.frameStatistics({ histogramBins: 5000, maxFrames: 1 })));
    assert.equal(tooMany.code, status.INVALID_ARGUMENT);
    assert.match(tooMany.details, /histogram_bins/);
    assert.equal(cameraHttpError(tooMany).status, 422);
  });

  test("thumbnails: a capture's and a recording's, small JPEGs made by the service", async () => {
    const saved = await camera.capture({ format: ImageFormat.IMAGE_FORMAT_PNG });
    const thumbnail = await camera.getCaptureThumbnail(saved.filename, THUMBNAIL_WIDTH);
    assert.equal(thumbnail.contentType, "image/jpeg");
    assert.equal(thumbnail.capture?.filename, saved.filename);
    const size = jpegSize(thumbnail.data);
    assert.ok(size.width <= THUMBNAIL_WIDTH && size.width > 0, `${size.width} px wide`);
    const full = await camera.getCapture(saved.filename);
    assert.equal(full.contentType, "image/png", "without a width: the file itself");
    const narrow = await rejection(camera.getCaptureThumbnail(saved.filename, 8));
    assert.equal(narrow.code, status.INVALID_ARGUMENT);
    assert.match(narrow.details, /thumbnail_max_width/);
    assert.equal((await rejection(camera.getCaptureThumbnail("capture_none.png", THUMBNAIL_WIDTH))).code, status.NOT_FOUND);

    const recorded = await camera.getRecordingThumbnail("recordings/nest-tiff", THUMBNAIL_WIDTH);
    assert.equal(recorded.contentType, "image/jpeg");
    assert.ok(jpegSize(recorded.data).width <= THUMBNAIL_WIDTH);
    assert.ok(recorded.frameNumber >= 0);
    assert.ok(jpegSize((await camera.getRecordingThumbnail("nest-tiff")).data).width <= ROI.width, "default width");
  });

  test("storage: the local folders, where each capture is, and no download URL without an object store", async () => {
    const storage = await camera.getStorageStatus();
    assert.equal(storage.backend, StorageBackend.STORAGE_BACKEND_LOCAL);
    assert.ok(storage.diskFreeBytes > 0);
    assert.equal(storage.lastUploadTime, undefined);
    const saved = await camera.capture();
    const page = await camera.listCaptures({ pageSize: 1 });
    assert.equal(page.captures[0].filename, saved.filename);
    const notStored = await rejection(camera.getDownloadUrl(captureFileName(saved.filename)));
    assert.equal(notStored.code, status.FAILED_PRECONDITION);
    const missing = await rejection(camera.getDownloadUrl(recordingFileName("no-such-recording", "x.ome.tif")));
    assert.ok([status.NOT_FOUND, status.FAILED_PRECONDITION].includes(missing.code), missing.message);
    assert.equal(page.captures[0].location?.state, StorageState.STORAGE_STATE_LOCAL);
    assert.equal((await camera.getCapture(saved.filename)).capture?.location?.state, StorageState.STORAGE_STATE_LOCAL);
  });
});

// A service whose storage is an S3-compatible bucket (a real SeaweedFS, CAMERA_TEST_S3_URL; started by
// tests/test_nestjs_client.py): files are uploaded in the background, then served by pre-signed URLs.
const objectStoreUrl = process.env.CAMERA_TEST_S3_URL;
/** Most time an upload may take to be confirmed, ms (a bound on polling, not a wait). */
const UPLOAD_TIMEOUT_MS = 30_000;
/** Between two polls of the service while an upload is pending, ms. */
const UPLOAD_POLL_MS = 50;

/** Poll `probe` (a call to the service) until it gives a value, or fail saying what was awaited. */
async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + UPLOAD_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    assert.ok(Date.now() < deadline, `${what} did not happen within ${UPLOAD_TIMEOUT_MS} ms`);
    await delay(UPLOAD_POLL_MS);
  }
}

describe("an object store behind the service", { skip: objectStoreUrl ? false : "CAMERA_TEST_S3_URL not set" }, () => {
  let app: INestApplicationContext;
  let camera: CameraClient;

  before(async () => {
    app = await startApp({ url: objectStoreUrl ?? "" });
    camera = app.get(CameraClient);
  });

  after(async () => {
    await app.close();
  });

  test("storage status, uploaded files' locations, and pre-signed URLs that serve the files' bytes", async () => {
    const storage = await camera.getStorageStatus();
    assert.equal(storage.backend, StorageBackend.STORAGE_BACKEND_OBJECT_STORE);
    assert.match(storage.endpoint, /^http:\/\/127\.0\.0\.1:/);
    assert.ok(storage.bucket.length > 0);
    assert.ok(storage.prefix.endsWith("/"), storage.prefix);
    assert.ok(storage.spoolBudgetBytes > 0);

    // A recording's file: spooled, then uploaded under the camera's prefix; its URL serves its bytes.
    const recording = await camera.startRecording({ recordingId: "nest-s3", maxFrames: 3 });
    await lastValueFrom(camera.watchRecording(recording.name));
    const uploaded = await until(async () => {
      const files = (await camera.getRecording(recording.name)).files.filter((file) => file.name.endsWith(".ome.tif"));
      return files.length === 1 && files[0].location?.state === StorageState.STORAGE_STATE_UPLOADED ? files[0] : undefined;
    }, "the upload of the recording's file");
    assert.ok(uploaded.location?.objectKey.startsWith(storage.prefix), uploaded.location?.objectKey);
    assert.equal(uploaded.location?.bucket, storage.bucket);
    const viaService = await collect(camera.downloadRecordingFile(recording.name, uploaded.name));
    const signed = await camera.getDownloadUrl(recordingFileName(recording.name, uploaded.name), 600);
    assert.ok(signed.expireTime instanceof Date && signed.expireTime.getTime() > Date.now());
    const fetched = await fetch(signed.url);
    assert.equal(fetched.status, 200);
    assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(viaService), "the URL serves the file's bytes");

    // A capture: its URL once it is uploaded (FAILED_PRECONDITION while it is only in the spool).
    const saved = await camera.capture({ format: ImageFormat.IMAGE_FORMAT_PNG });
    const url = await until(async () => {
      try {
        return await camera.getDownloadUrl(captureFileName(saved.filename));
      } catch (error) {
        if (error instanceof CameraGrpcError && error.code === status.FAILED_PRECONDITION) {
          return undefined; // still in the spool
        }
        throw error;
      }
    }, "the upload of the capture");
    const capture = await camera.getCapture(saved.filename);
    assert.ok(Buffer.from(await (await fetch(url.url)).arrayBuffer()).equals(capture.data));
    const later = await camera.getStorageStatus();
    assert.ok(later.uploadedFiles >= 2 && later.lastUploadTime instanceof Date);
  });

  test("each upload is an OBJECT_UPLOADED event naming the bucket, the object's key and the capture", async () => {
    const storage = await camera.getStorageStatus();
    const deliveries = camera.watchEvents([EventType.EVENT_TYPE_OBJECT_UPLOADED]).pipe(shareReplay());
    const watching = deliveries.subscribe();
    try {
      const firstUpload = firstValueFrom(deliveries);
      // The watch starts with the subscription: capture until it has seen an upload.
      const captured = new Set<string>();
      for (let count = 0; count < MAX_RECORDINGS && !(await settled(firstUpload)); count += 1) {
        captured.add((await camera.capture()).filename);
        await until(async () => ((await settled(firstUpload)) || (await camera.getStorageStatus()).pendingUploads === 0 ? true : undefined), "the upload");
      }
      const uploaded = (await firstUpload).event;
      assert.equal(uploaded?.type, EventType.EVENT_TYPE_OBJECT_UPLOADED);
      assert.equal(uploaded?.bucket, storage.bucket);
      assert.ok(uploaded?.objectKey.startsWith(storage.prefix), uploaded?.objectKey);
      assert.ok(captured.has(uploaded?.filename ?? ""), `${uploaded?.filename} is not a capture made here`);
      assert.ok(uploaded?.objectKey.endsWith(uploaded.filename));
    } finally {
      watching.unsubscribe();
    }
  });
});
