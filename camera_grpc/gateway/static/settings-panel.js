// Camera settings panel of the viewer page: one labelled control per feature the camera describes
// (GET /camera `features`), changes sent as PATCH /settings with If-Match, kept up to date by the
// settings_changed events of GET /events (whoever changed the settings: the panel reads GET /settings when the
// event's revision is newer than the one shown), and presets.
//
// The page follows GET /events rather than GET /settings/events too: a page may hold REST_MAX_STREAMS_PER_CLIENT
// (4) streams, and the live view, the events, the statistics and a recording's progress are four.
//
// While a recording runs, settings that change the frames' geometry are refused by the service (409 naming it):
// their controls are disabled meanwhile, saying which recording holds them (setHeldBy).

/** Settings the panel leaves out: exposure and gain have the page's own form; the limits are a pair; the GPIO
 * lines are a list, with a panel of their own (trigger-panel.js). */
const SKIPPED = new Set(["exposure_ms", "gain_db", "exposure_auto_limits_ms"]);
const SKIPPED_GROUPS = new Set(["gpio"]);
/** Group headings by the first part of a feature's path; features without a group are listed under "Image". */
const GROUPS = {
  roi: "Region of interest",
  pixel_addressing: "Binning / decimation",
  frame_rate: "Frame rate",
  white_balance: "White balance",
  flip: "Flip",
  trigger: "Trigger",
};
const LABELS = {
  "roi.offset_x": "Left",
  "roi.offset_y": "Top",
  "roi.width": "Width",
  "roi.height": "Height",
  "pixel_addressing.mode": "Mode",
  "pixel_addressing.horizontal": "Across",
  "pixel_addressing.vertical": "Down",
  "frame_rate.mode": "Mode",
  "frame_rate.fps": "Target",
  pixel_format: "Pixel format",
  exposure_auto: "Auto exposure",
  gain_auto: "Auto gain",
  "white_balance.mode": "Mode",
  "white_balance.red": "Red gain",
  "white_balance.green": "Green gain",
  "white_balance.blue": "Blue gain",
  black_level_pct: "Black level",
  gamma: "Gamma",
  "flip.horizontal": "Left-right",
  "flip.vertical": "Top-bottom",
  saturation_pct: "Saturation",
  "trigger.source": "Source",
  "trigger.mode": "Mode",
  "trigger.edge": "Edge",
  "trigger.delay_ms": "Delay",
  "trigger.frames_per_trigger": "Frames per trigger",
};
const UNIT_SHORT = { milliseconds: "ms", "frames per second": "fps", percent: "%", dB: "dB" };
const NOT_SUPPORTED = "not on this camera";
/** Settings (first part of a feature's path) that change the frames' geometry: refused while a recording runs.
 * The service's list is GEOMETRY_FIELDS in camera_grpc/device/settings.py (a test checks they agree). */
export const GEOMETRY = ["flip", "pixel_addressing", "pixel_format", "roi"];
/** Significant digits a number control shows (the camera's own values may be 199.99999999). */
const SHOWN_DIGITS = 6;
/** Controls that only apply while another one has a value: the frame-rate target while the rate is fixed. */
const APPLIES_WHEN = {
  "frame_rate.fps": ["frame_rate.mode", "fixed"],
  "trigger.edge": ["trigger.source", "hardware"],
};

/** The element id of a feature's control: `roi.width` -> `setting-roi-width`. */
export function controlId(path) {
  return `setting-${path.replaceAll(".", "-").replaceAll("_", "-")}`;
}

function valueAt(settings, path) {
  return path.split(".").reduce((value, part) => (value == null ? undefined : value[part]), settings);
}

/** `{roi: {width: 640}}` for `roi.width` = 640, merged into `body`. */
function putAt(body, path, value) {
  const parts = path.split(".");
  let holder = body;
  for (const part of parts.slice(0, -1)) {
    holder[part] = holder[part] ?? {};
    holder = holder[part];
  }
  holder[parts[parts.length - 1]] = value;
}

function unitText(unit) {
  return UNIT_SHORT[unit] ?? unit;
}

export class SettingsPanel {
  /**
   * @param {object} options
   * @param {(method: string, path: string, body?: object, headers?: object) => Promise<any>} options.api
   * @param {(settings: object) => void} options.onSettings called with every settings snapshot shown
   */
  constructor({ api, onSettings }) {
    this.api = api;
    this.onSettings = onSettings;
    this.features = new Map();
    this.controls = new Map(); // path -> {input, feature}
    this.dirty = new Set(); // paths the user changed and has not applied
    this.revision = null;
    this.heldBy = ""; // the running recording that holds the geometry, if any
    this.refreshing = null; // the GET /settings under way, if any
    this.usable = false;
    this.form = document.getElementById("camera-form");
    this.message = document.getElementById("camera-message");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.apply();
    });
    document.getElementById("full-sensor").addEventListener("click", () => this.fullSensor());
    document.getElementById("preset-save").addEventListener("click", () => this.savePreset());
    document.getElementById("preset-apply").addEventListener("click", () => this.applyPreset());
  }

  /** Build the controls for the camera's features and show `settings`. */
  render(camera, settings) {
    this.features = new Map(camera.features.map((feature) => [feature.name, feature]));
    this.controls.clear();
    this.dirty.clear();
    const container = document.getElementById("camera-controls");
    const groups = new Map();
    for (const feature of camera.features) {
      if (SKIPPED.has(feature.name) || SKIPPED_GROUPS.has(feature.name.split(".")[0])) {
        continue;
      }
      const group = GROUPS[feature.name.split(".")[0]] ?? "Image";
      if (!groups.has(group)) {
        const fieldset = document.createElement("fieldset");
        const legend = document.createElement("legend");
        legend.textContent = group;
        fieldset.append(legend);
        groups.set(group, fieldset);
      }
      groups.get(group).append(this.control(feature, valueAt(settings, feature.name)));
    }
    container.replaceChildren(...groups.values());
    this.show(settings);
    this.setUsable(this.usable);
  }

  /** One labelled control for a feature: a select for choices or discrete values, a checkbox for a flag,
   * a number input bounded by the camera's limits and step otherwise; disabled with the reason when the
   * camera lacks the feature. */
  control(feature, current) {
    const row = document.createElement("div");
    row.className = "setting";
    const id = controlId(feature.name);
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = LABELS[feature.name] ?? feature.name;
    let input;
    if (feature.choices.length > 0 || feature.values.length > 0) {
      input = document.createElement("select");
      const options = feature.choices.length > 0 ? feature.choices : feature.values.map(String);
      for (const option of options) {
        input.append(new Option(option, option));
      }
    } else if (typeof current === "boolean") {
      input = document.createElement("input");
      input.type = "checkbox";
      row.classList.add("flag");
    } else {
      input = document.createElement("input");
      input.type = "number";
      input.step = feature.step ?? "any";
      if (feature.minimum !== null) {
        input.min = feature.minimum;
      }
      if (feature.maximum !== null) {
        input.max = feature.maximum;
      }
      input.inputMode = "decimal";
    }
    input.id = id;
    input.name = feature.name;
    for (const type of ["input", "change"]) {
      input.addEventListener(type, () => {
        this.dirty.add(feature.name);
        this.setUsable(this.usable); // e.g. the frame-rate target follows the mode
      });
    }
    row.append(label, input);
    const unit = unitText(feature.unit);
    if (unit) {
      const span = document.createElement("span");
      span.className = "unit";
      span.textContent = unit;
      row.append(span);
    }
    const reason = document.createElement("small");
    reason.className = "muted reason";
    reason.id = `${id}-reason`;
    reason.hidden = true;
    input.setAttribute("aria-describedby", reason.id);
    row.append(reason);
    if (!feature.supported) {
      reason.textContent = NOT_SUPPORTED;
      reason.hidden = false;
      input.title = NOT_SUPPORTED;
    } else if (feature.minimum !== null && feature.maximum !== null && input.type === "number") {
      input.title = `${feature.minimum} to ${feature.maximum}${feature.step ? `, step ${feature.step}` : ""} ${unit}`;
    }
    this.controls.set(feature.name, { input, feature, reason, title: input.title });
    return row;
  }

  /** Show a settings snapshot (from an answer or an event); controls the user is editing keep their value. */
  show(settings) {
    if (typeof settings.revision === "number") {
      this.revision = settings.revision;
    }
    for (const [path, { input }] of this.controls) {
      if (this.dirty.has(path)) {
        continue;
      }
      const value = valueAt(settings, path);
      if (input.type === "checkbox") {
        input.checked = Boolean(value);
      } else if (typeof value === "number" && !Number.isInteger(value)) {
        input.value = String(Number(value.toPrecision(SHOWN_DIGITS)));
      } else if (value !== null && value !== undefined) {
        input.value = String(value);
      }
    }
    this.setUsable(this.usable);
    this.form.dataset.revision = String(this.revision ?? "");
    this.onSettings(settings);
  }

  setUsable(usable) {
    this.usable = usable;
    for (const [path, { input, feature, reason, title }] of this.controls) {
      const [other, needed] = APPLIES_WHEN[path] ?? [];
      const applies = !other || !this.controls.has(other) || this.controls.get(other).input.value === needed;
      const held = feature.supported && this.heldBy && GEOMETRY.includes(path.split(".")[0]);
      input.disabled = !usable || !feature.supported || !applies || Boolean(held);
      if (feature.supported) {
        reason.textContent = held ? `held by ${this.heldBy} (recording)` : "";
        reason.hidden = !held;
        input.title = held ? reason.textContent : title;
      }
    }
    for (const id of ["camera-apply", "preset-save", "preset-apply"]) {
      document.getElementById(id).disabled = !usable;
    }
    const fullSensor = document.getElementById("full-sensor");
    fullSensor.disabled = !usable || !this.features.get("roi.width")?.supported || Boolean(this.heldBy);
    fullSensor.title = this.heldBy ? `held by ${this.heldBy} (recording)` : "";
  }

  /** While `recording` (its name; "" when none) runs, the geometry controls are disabled, naming it. */
  setHeldBy(recording) {
    this.heldBy = recording || "";
    for (const path of this.dirty) {
      if (this.heldBy && GEOMETRY.includes(path.split(".")[0])) {
        this.dirty.delete(path); // an edit that cannot be applied now
      }
    }
    this.setUsable(this.usable);
  }

  /** The body of a PATCH: the controls the user changed. */
  changes() {
    const body = {};
    for (const path of this.dirty) {
      const { input, feature } = this.controls.get(path);
      let value;
      if (input.type === "checkbox") {
        value = input.checked;
      } else if (feature.choices.length > 0) {
        value = input.value;
      } else {
        value = Number(input.value);
      }
      putAt(body, path, value);
    }
    return body;
  }

  async apply() {
    await this.patch(this.changes());
  }

  /** Show the settings as they are now (GET /settings): after the events stream (re)opened, or an event. */
  async refresh() {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    try {
      this.refreshing = this.api("GET", "settings");
      this.show(await this.refreshing);
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say(error.message, true);
      }
    } finally {
      this.refreshing = null;
    }
    if (this.refreshAgain) {
      this.refreshAgain = false;
      await this.refresh();
    }
  }

  /** The whole sensor as the region. */
  async fullSensor() {
    const width = this.features.get("roi.width");
    const height = this.features.get("roi.height");
    await this.patch({ roi: { offset_x: 0, offset_y: 0, width: width.maximum, height: height.maximum } });
  }

  /** PATCH /settings at the revision shown (a change made meanwhile is a 412: the page shows the new one);
   * true if the camera applied it. */
  async patch(body) {
    if (Object.keys(body).length === 0) {
      this.say("nothing changed", false);
      return false;
    }
    const headers = this.revision === null ? {} : { "If-Match": `"${this.revision}"` };
    try {
      const applied = await this.api("PATCH", "settings", body, headers);
      this.dirty.clear();
      this.show(applied);
      this.say(`applied (revision ${applied.revision})`, false);
      return true;
    } catch (error) {
      if (error.status === 412) {
        this.dirty.clear();
        this.show(await this.api("GET", "settings"));
        this.say("the settings were changed elsewhere meanwhile: showing them; apply again", true);
      } else if (error.name !== "Unauthorized") {
        this.say(error.message, true);
      }
      return false;
    }
  }

  say(text, isError) {
    this.message.textContent = text;
    this.message.classList.toggle("error", Boolean(isError));
  }

  // -- presets ---------------------------------------------------------------------------------------------

  async loadPresets() {
    try {
      const list = await this.api("GET", "presets");
      const select = document.getElementById("preset-list");
      const chosen = select.value;
      select.replaceChildren(...list.presets.map((preset) => new Option(preset.preset_id, preset.preset_id)));
      if (list.presets.some((preset) => preset.preset_id === chosen)) {
        select.value = chosen;
      }
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say(error.message, true);
      }
    }
  }

  async savePreset() {
    const id = document.getElementById("preset-id").value.trim();
    try {
      await this.api("POST", "presets", { preset_id: id });
      this.say(`saved as ${id}`, false);
      await this.loadPresets();
      document.getElementById("preset-list").value = id;
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say(error.message, true);
      }
    }
  }

  async applyPreset() {
    const id = document.getElementById("preset-list").value;
    if (!id) {
      this.say("no preset chosen", true);
      return;
    }
    try {
      const applied = await this.api("POST", `presets/${encodeURIComponent(id)}/apply`, undefined);
      this.dirty.clear();
      this.show(applied);
      this.say(`preset ${id} applied`, false);
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say(error.message, true);
      }
    }
  }

  // -- events ----------------------------------------------------------------------------------------------

  /** An event of GET /events: a settings change newer than the settings shown is read (GET /settings). */
  onCameraEvent(event) {
    const changed = event.type === "settings_changed" || event.type === "camera_reconnected";
    if (changed && !(this.revision !== null && event.settings_revision && event.settings_revision <= this.revision)) {
      this.refresh();
    }
  }
}
