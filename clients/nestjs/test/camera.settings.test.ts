// The settings calls of issue 12 (FieldMask updates, revisions, watchSettings, presets, camera channels,
// capabilities) against a service of their own (CAMERA_TEST_SETTINGS_URL, started by
// tests/test_nestjs_client.py), since they change what other test files read and node runs files in parallel.
import "reflect-metadata";

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { status } from "@grpc/grpc-js";
import { type INestApplicationContext } from "@nestjs/common";
import { filter, firstValueFrom, take, toArray } from "rxjs";

import {
  AutoMode,
  CLIENT_ERROR_DOMAIN,
  CameraClient,
  FEATURE_UNSUPPORTED,
  PixelFormat,
  cameraHttpError,
  settingsPaths,
  updateSettingsWire,
  type FeatureDescription,
} from "../dist";
import { rejection, startApp } from "./support/camera";

const settingsUrl = process.env.CAMERA_TEST_SETTINGS_URL;
if (!settingsUrl) {
  throw new Error("CAMERA_TEST_SETTINGS_URL is not set: the address of a camera-grpc service for the settings tests");
}
const serviceUrl: string = settingsUrl;

/** A value the camera accepts: `steps` steps up from the feature's minimum. */
function validValue(feature: FeatureDescription | undefined, steps: number): number {
  assert.ok(feature?.supported && feature.minimum !== undefined && feature.minimum !== null, "no such feature");
  return feature.minimum + steps * (feature.step ?? 1);
}

describe("settings requests (no service)", () => {
  test("a patch becomes settings and a FieldMask of the values given, in snake_case paths", () => {
    const wire = updateSettingsWire(
      { roi: { width: 640, offsetX: 8 }, exposureAuto: AutoMode.AUTO_MODE_ONCE, blackLevelPct: undefined },
      7,
    );
    assert.deepEqual(wire.updateMask, { paths: ["roi.width", "roi.offset_x", "exposure_auto"] });
    assert.deepEqual(wire.settings, { roi: { width: 640, offsetX: 8 }, exposureAuto: "AUTO_MODE_ONCE", blackLevelPct: undefined });
    assert.equal(wire.expectedRevision, 7);
    assert.deepEqual(settingsPaths({ exposureAutoLimitsMs: { minimum: 1 }, flip: { horizontal: false } }), [
      "exposure_auto_limits_ms.minimum",
      "flip.horizontal",
    ]);
  });

  test("exposure and gain alone are sent as older services understand them; a revision makes it a masked update", () => {
    assert.deepEqual(updateSettingsWire({ exposureMs: 5, gainDb: undefined }), { exposureMs: 5 });
    assert.deepEqual(updateSettingsWire({ gainDb: 2 }, 3), {
      settings: { gainDb: 2 },
      updateMask: { paths: ["gain_db"] },
      expectedRevision: 3,
    });
  });

  test("an UpdateSettingsRequest is sent as it is, its updateMask as a FieldMask", () => {
    const wire = updateSettingsWire({ settings: { gainDb: 2 } as never, updateMask: ["gain_db"] });
    assert.deepEqual(wire, { settings: { gainDb: 2 }, updateMask: { paths: ["gain_db"] } });
  });
});

describe("settings against a running service", () => {
  let app: INestApplicationContext;
  let camera: CameraClient;

  before(async () => {
    app = await startApp({ url: serviceUrl });
    camera = app.get(CameraClient);
  });

  after(async () => {
    await app.close();
  });

  test("getCameraInfo describes each setting by its field path", async () => {
    const info = await camera.getCameraInfo();
    const features = new Map(info.features.map((feature) => [feature.name, feature]));
    const width = features.get("roi.width");
    assert.ok(width?.supported);
    assert.equal(width.maximum, info.sensorWidth);
    assert.equal(typeof width.step, "number");
    assert.ok(features.get("pixel_format")?.choices.includes("mono8"));
    assert.equal(features.get("exposure_ms")?.unit, "milliseconds");
    assert.equal(features.get("white_balance.red")?.supported, false, "the default simulated camera is mono");
  });

  test("updateSettings with a partial settings object changes only those fields", async () => {
    const info = await camera.getCameraInfo();
    const width = validValue(
      info.features.find((feature) => feature.name === "roi.width"),
      4,
    );
    const before = await camera.getSettings();
    const applied = await camera.updateSettings({ roi: { width }, gainDb: 3 });
    assert.equal(applied.settings?.roi?.width, width);
    assert.equal(applied.settings?.roi?.height, before.settings?.roi?.height, "not named: unchanged");
    assert.equal(applied.settings?.gainDb, 3);
    assert.ok((applied.settings?.revision ?? 0) > (before.settings?.revision ?? 0));
    assert.equal(applied.settings?.pixelFormat, PixelFormat.PIXEL_FORMAT_MONO8);
    const current = await camera.getSettings();
    assert.equal(current.settings?.roi?.width, width);
  });

  test("expectedRevision: applied while current, ABORTED (HTTP 409, 412 if conditional) once stale; nothing changed", async () => {
    const first = await camera.updateSettings({ gainDb: 1 });
    const revision = first.settings?.revision ?? 0;
    const second = await camera.updateSettings({ gainDb: 2 }, { expectedRevision: revision });
    assert.equal(second.settings?.gainDb, 2);
    const error = await rejection(camera.updateSettings({ gainDb: 5 }, { expectedRevision: revision }));
    assert.equal(error.code, status.ABORTED);
    assert.equal(cameraHttpError(error).status, 409);
    assert.equal(cameraHttpError(error, { conditional: true }).status, 412);
    const current = await camera.getSettings();
    assert.equal(current.settings?.gainDb, 2);
    assert.equal(current.settings?.revision, second.settings?.revision);
  });

  test("a feature the camera lacks is FAILED_PRECONDITION, reason FEATURE_UNSUPPORTED, HTTP 409", async () => {
    const error = await rejection(camera.updateSettings({ whiteBalance: { red: 1.5 } }));
    assert.equal(error.code, status.FAILED_PRECONDITION);
    assert.equal(error.reason, FEATURE_UNSUPPORTED);
    assert.match(error.details, /white_balance/);
    const { status: httpStatus, body } = cameraHttpError(error);
    assert.equal(httpStatus, 409);
    assert.equal((body as { reason: string }).reason, FEATURE_UNSUPPORTED);
  });

  test("a nested field or enum name the contract does not have is refused before the call, by its path", async () => {
    const error = await rejection(camera.updateSettings({ roi: { depth: 3 } } as never));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.domain, CLIENT_ERROR_DOMAIN);
    assert.deepEqual(
      error.fieldViolations.map((violation) => violation.field),
      ["roi.depth"],
    );
    const enumError = await rejection(camera.updateSettings({ exposureAuto: "ONCE" as never }));
    assert.match(enumError.fieldViolations[0]?.description ?? "", /AUTO_MODE_ONCE/);
  });

  test("watchSettings: the settings at once, then each change with a higher revision; unsubscribing cancels", async () => {
    const initial = await firstValueFrom(camera.watchSettings());
    assert.equal(initial.cause, "initial");
    assert.equal(initial.connected, true);
    const target = (initial.settings?.gainDb ?? 0) === 4 ? 5 : 4;
    const changed = firstValueFrom(
      camera.watchSettings().pipe(
        filter((change) => change.settings?.gainDb === target),
        take(1),
      ),
    );
    // The watch sends the current settings first: once it has, the update is seen as a change.
    const applied = await camera.updateSettings({ gainDb: target });
    const seen = await changed;
    assert.ok((seen.settings?.revision ?? 0) >= (applied.settings?.revision ?? 0));
    assert.ok(["update", "initial"].includes(seen.cause));
    const two = await firstValueFrom(camera.watchSettings().pipe(take(1), toArray()));
    assert.equal(two.length, 1);
  });

  test("presets: save, list, get, apply, delete; NOT_FOUND (404) afterwards", async () => {
    await camera.updateSettings({ gainDb: 7 });
    const saved = await camera.createPreset("node-bright");
    assert.equal(saved?.name, "presets/node-bright");
    assert.ok(saved?.createTime instanceof Date);
    await camera.updateSettings({ gainDb: 0 });
    const listed = await camera.listPresets();
    assert.ok(listed.some((preset) => preset.name === "presets/node-bright"));
    const got = await camera.getPreset("presets/node-bright");
    assert.equal(got?.settings?.gainDb, 7);
    const applied = await camera.applyPreset("node-bright");
    assert.equal(applied.settings?.gainDb, 7);
    await camera.deletePreset("node-bright");
    const missing = await rejection(camera.getPreset("node-bright"));
    assert.equal(missing.code, status.NOT_FOUND);
    assert.equal(cameraHttpError(missing).status, 404);
  });

  test("camera channels: save to a user channel, change, load it back", async () => {
    const info = await camera.getCameraInfo();
    assert.ok(info.settingsChannels >= 1);
    await camera.updateSettings({ gainDb: 9 });
    await camera.saveSettingsToCamera(1);
    await camera.updateSettings({ gainDb: 2 });
    const loaded = await camera.loadSettingsFromCamera(1);
    assert.equal(loaded.settings?.gainDb, 9);
  });
});
