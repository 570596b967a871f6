// Triggering, I/O and events of issue 13 (softwareTrigger, getIoStatus, watchEvents, trigger and gpio through
// updateSettings, frame metadata) against a service of their own (CAMERA_TEST_TRIGGER_URL, started by
// tests/test_nestjs_client.py), since software-trigger mode changes what other test files read.
import "reflect-metadata";

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { status } from "@grpc/grpc-js";
import { type INestApplicationContext } from "@nestjs/common";
import { filter, firstValueFrom, take } from "rxjs";

import {
  CLIENT_ERROR_DOMAIN,
  CameraClient,
  EventType,
  FEATURE_UNSUPPORTED,
  FrameEncoding,
  GpioMode,
  TRIGGER_MODE,
  TriggerSource,
  cameraHttpError,
  httpStatusFor,
  updateSettingsWire,
  type EventDelivery,
} from "../dist";
import { rejection, startApp } from "./support/camera";

const triggerUrl = process.env.CAMERA_TEST_TRIGGER_URL;
if (!triggerUrl) {
  throw new Error("CAMERA_TEST_TRIGGER_URL is not set: the address of a camera-grpc service for the trigger tests");
}
const serviceUrl: string = triggerUrl;
/** Settings changes made at most while waiting for a watch to see one (it subscribes within a few). */
const MAX_CHANGES = 200;

describe("trigger and gpio requests (no service)", () => {
  test("a gpio list is one FieldMask path, trigger parts are paths of their own", () => {
    const wire = updateSettingsWire({
      gpio: [{ line: 1, mode: GpioMode.GPIO_MODE_STROBE, durationMs: 2 }, { line: 2 }],
      trigger: { source: TriggerSource.TRIGGER_SOURCE_SOFTWARE },
    });
    assert.deepEqual(wire.updateMask, { paths: ["gpio", "trigger.source"] });
  });

  test("TRIGGER_MODE is a 409 like FEATURE_UNSUPPORTED, only from the service's FAILED_PRECONDITION", () => {
    assert.equal(httpStatusFor(status.FAILED_PRECONDITION, TRIGGER_MODE), 409);
    assert.equal(httpStatusFor(status.FAILED_PRECONDITION, FEATURE_UNSUPPORTED), 409);
    assert.equal(httpStatusFor(status.FAILED_PRECONDITION, "CAPTURES_FOLDER"), 503);
    assert.equal(httpStatusFor(status.UNAVAILABLE, TRIGGER_MODE), 503);
  });
});

describe("triggering, I/O and events against a running service", () => {
  let app: INestApplicationContext;
  let camera: CameraClient;

  before(async () => {
    app = await startApp({ url: serviceUrl });
    camera = app.get(CameraClient);
  });

  after(async () => {
    await app.close();
  });

  test("softwareTrigger while free-running: FAILED_PRECONDITION, reason TRIGGER_MODE, HTTP 409 naming the mode", async () => {
    const error = await rejection(camera.softwareTrigger());
    assert.equal(error.code, status.FAILED_PRECONDITION);
    assert.equal(error.reason, TRIGGER_MODE);
    assert.match(error.details, /trigger\.source is free_running/);
    const { status: httpStatus, body } = cameraHttpError(error);
    assert.equal(httpStatus, 409);
    assert.equal((body as { reason: string }).reason, TRIGGER_MODE);
  });

  test("a gpio item or event type the contract does not have is refused before the call, by its path", async () => {
    const error = await rejection(camera.updateSettings({ gpio: [{ line: 1, mode: "STROBE" as never }] }));
    assert.equal(error.domain, CLIENT_ERROR_DOMAIN);
    assert.deepEqual(
      error.fieldViolations.map((violation) => violation.field),
      ["gpio[0].mode"],
    );
    const typeError = await rejection(firstValueFrom(camera.watchEvents(["SUNRISE" as never])));
    assert.equal(typeError.code, status.INVALID_ARGUMENT);
    assert.match(typeError.fieldViolations[0]?.description ?? "", /EVENT_TYPE_TRIGGER_MISSED/);
  });

  test("softwareTrigger in software mode: its frame number and metadata, the same frame on frames()", async () => {
    const applied = await camera.updateSettings({ trigger: { source: TriggerSource.TRIGGER_SOURCE_SOFTWARE } });
    assert.equal(applied.settings?.trigger?.source, TriggerSource.TRIGGER_SOURCE_SOFTWARE);
    const fired = await camera.softwareTrigger();
    assert.equal(fired.frameNumbers.length, 1);
    const [number] = fired.frameNumbers;
    assert.equal(fired.metadata?.frameNumber, number);
    assert.equal(fired.metadata?.triggerSource, TriggerSource.TRIGGER_SOURCE_SOFTWARE);
    assert.ok(fired.metadata?.receivedAt instanceof Date);
    assert.match(fired.metadata?.cameraClock ?? "", /^simulated:/);
    const again = await camera.softwareTrigger();
    assert.equal(again.metadata?.triggerCount, (fired.metadata?.triggerCount ?? 0) + 1);
    // A frames() subscriber gets the triggered frames: trigger until the new subscription has one.
    const seen = firstValueFrom(camera.frames({ encoding: FrameEncoding.FRAME_ENCODING_RAW }));
    const numbers = new Set<number>();
    for (let count = 0; count < MAX_CHANGES && !(await settled(seen)); count += 1) {
      (await camera.softwareTrigger()).frameNumbers.forEach((fired) => numbers.add(fired));
    }
    const frame = await seen;
    assert.ok(numbers.has(frame.frameNumber), `frame ${frame.frameNumber} was not triggered here`);
    assert.equal(frame.metadata?.triggerSource, TriggerSource.TRIGGER_SOURCE_SOFTWARE);
    assert.equal(frame.metadata?.frameNumber, frame.frameNumber);
    const saved = await camera.capture();
    assert.equal(saved.metadata?.triggerSource, TriggerSource.TRIGGER_SOURCE_SOFTWARE);
    assert.equal(saved.metadata?.frameNumber, saved.frameNumber);
    await camera.updateSettings({ trigger: { source: TriggerSource.TRIGGER_SOURCE_FREE_RUNNING } });
  });

  test("getIoStatus reads the gpio lines as updateSettings set them (the list replaced whole)", async () => {
    await camera.updateSettings({ gpio: [{ line: 1, mode: GpioMode.GPIO_MODE_INPUT }, { line: 2, mode: GpioMode.GPIO_MODE_NORMAL }] });
    const io = await camera.getIoStatus();
    assert.deepEqual(
      io.lines.map((line) => [line.line, line.mode]),
      [
        [1, GpioMode.GPIO_MODE_INPUT],
        [2, GpioMode.GPIO_MODE_NORMAL],
      ],
    );
  });

  test("watchEvents: events of the types asked for as they happen, with Dates; unsubscribing cancels", async () => {
    const events = camera.watchEvents([EventType.EVENT_TYPE_SETTINGS_CHANGED]);
    const first = firstValueFrom(events.pipe(take(1)));
    // The watch starts with the subscription: change the settings until it has seen a change.
    let revision = 0;
    for (let change = 0; change < MAX_CHANGES && !(await settled(first)); change += 1) {
      revision = (await camera.updateSettings({ gainDb: change % 2 })).settings?.revision ?? 0;
    }
    const delivered: EventDelivery = await first;
    assert.equal(delivered.event?.type, EventType.EVENT_TYPE_SETTINGS_CHANGED);
    assert.equal(delivered.event?.cause, "update");
    assert.ok((delivered.event?.settingsRevision ?? 0) <= revision && (delivered.event?.settingsRevision ?? 0) > 0);
    assert.ok(delivered.event?.time instanceof Date);
    assert.ok((delivered.event?.sequenceNumber ?? 0) >= 1);
    assert.equal(delivered.missedEvents, 0);
  });
});

/** Whether `promise` has settled (looked at after the tasks already queued have run). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol("pending");
  const outcome = await Promise.race([promise.then(() => true, () => true), new Promise((resolve) => setImmediate(resolve, pending))]);
  return outcome !== pending;
}
