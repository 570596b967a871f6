import type { CameraSettings, UpdateSettingsRequest } from "./generated/camera/v1/camera";

/**
 * Some settings to change (`updateSettings`): any fields of {@link CameraSettings}, and of its messages
 * only the parts given (`{ roi: { width: 640 } }` changes the width alone). Enums by their names, as
 * everywhere in this package (`exposureAuto: "AUTO_MODE_ONCE"`). A list (`gpio`) is replaced whole: give
 * every line, each line's fields left out take their neutral value (`mode` off, times 0).
 */
export type SettingsPatch = {
  [K in keyof CameraSettings]?: NonNullable<CameraSettings[K]> extends readonly (infer Item)[]
    ? Partial<Item>[]
    : NonNullable<CameraSettings[K]> extends object
      ? Partial<NonNullable<CameraSettings[K]>>
      : CameraSettings[K];
};

/** The fields of an UpdateSettingsRequest that only a request has (not a {@link SettingsPatch}). */
const REQUEST_ONLY_FIELDS = ["settings", "updateMask", "expectedRevision"] as const;
/** What services older than the FieldMask update understood: exposure and gain on the request itself. */
const LEGACY_FIELDS = new Set(["exposureMs", "gainDb"]);

/** A CameraSettings field path as the service spells it in a FieldMask (`exposureAutoLimitsMs` -> `exposure_auto_limits_ms`). */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The FieldMask paths of a settings patch: one per value given (`null`/`undefined` are "not given"),
 * nested objects by their parts (`{ roi: { width: 640 } }` -> `roi.width`), a list by its name alone
 * (`gpio`: AIP-134 names a repeated field whole).
 */
export function settingsPaths(patch: object, prefix = ""): string[] {
  const paths: string[] = [];
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined || value === null) {
      continue;
    }
    const path = prefix + snakeCase(name);
    if (typeof value === "object" && !Array.isArray(value) && !(value instanceof Uint8Array)) {
      paths.push(...settingsPaths(value, `${path}.`));
    } else {
      paths.push(path);
    }
  }
  return paths;
}

/** Whether `request` is an UpdateSettingsRequest (it has `settings`, `updateMask` or `expectedRevision`). */
export function isUpdateRequest(request: object): request is Partial<UpdateSettingsRequest> {
  return REQUEST_ONLY_FIELDS.some((name) => (request as Record<string, unknown>)[name] !== undefined);
}

/** The request object as @grpc/proto-loader encodes it: the FieldMask as `{ paths }` (ts-proto types it as a list). */
export interface UpdateSettingsWire extends Omit<Partial<UpdateSettingsRequest>, "updateMask"> {
  updateMask?: { paths: string[] };
}

/**
 * The UpdateSettingsRequest for a settings patch: `settings` with a FieldMask naming every value given,
 * and `expectedRevision`. A patch of exposure and gain alone (and no revision) is sent as older services
 * understand it (`exposureMs`, `gainDb` on the request). An UpdateSettingsRequest is sent as it is (its
 * `updateMask` as a FieldMask; without one, the paths of its `settings`).
 */
export function updateSettingsWire(
  request: Partial<UpdateSettingsRequest> | SettingsPatch,
  expectedRevision?: number,
): UpdateSettingsWire {
  if (isUpdateRequest(request)) {
    const { updateMask, ...rest } = request;
    const paths = updateMask ?? (request.settings ? settingsPaths(request.settings) : []);
    const wire: UpdateSettingsWire = { ...rest, updateMask: { paths } };
    if (expectedRevision !== undefined) {
      wire.expectedRevision = expectedRevision;
    }
    return wire;
  }
  const given = Object.entries(request).filter(([, value]) => value !== undefined && value !== null);
  if (expectedRevision === undefined && given.every(([name]) => LEGACY_FIELDS.has(name))) {
    return Object.fromEntries(given) as UpdateSettingsWire;
  }
  const wire: UpdateSettingsWire = {
    settings: request as CameraSettings,
    updateMask: { paths: settingsPaths(request) },
  };
  if (expectedRevision !== undefined) {
    wire.expectedRevision = expectedRevision;
  }
  return wire;
}

/** The prefix of preset resource names (AIP-122): `presets/{presetId}`. */
export const PRESET_COLLECTION = "presets/";

/** `presets/{id}` for a preset id (a full name is kept as it is). */
export function presetName(preset: string): string {
  return preset.startsWith(PRESET_COLLECTION) ? preset : PRESET_COLLECTION + preset;
}
