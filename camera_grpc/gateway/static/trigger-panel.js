// Trigger, GPIO and events panel of the viewer page (issue 13): the "Trigger" button (POST /trigger, enabled in
// software-trigger mode; the trigger's source, mode, edge, delay and frames per trigger are camera settings, in
// settings-panel.js), the GPIO lines (modes from GET /camera `features`, changed with PATCH /settings `gpio`, the
// whole list; input levels from GET /io) and the events as they arrive (GET /events, Server-Sent Events).
import { EventStreamFollower } from "./event-stream.js";

/** Events the list keeps, newest first. */
const EVENTS_SHOWN = 50;
const SOFTWARE = "software";
/** Event types shown as warnings (the list marks them). */
const WARNINGS = new Set([
  "camera_disconnected",
  "trigger_missed",
  "frames_skipped",
  "service_stopping",
  "recording_failed",
  "disk_space_low",
]);
const BYTES_PER_MIB = 1024 * 1024;

const $ = (id) => document.getElementById(id);

/** The element id of a GPIO line's mode control: line 2 -> `gpio-2-mode`. */
export function gpioControlId(line) {
  return `gpio-${line}-mode`;
}

export class TriggerPanel {
  /**
   * @param {object} options
   * @param {(method: string, path: string, body?: object, headers?: object) => Promise<any>} options.api
   * @param {(path: string, options?: object) => Promise<Response>} options.fetchWithToken
   * @param {(event: object) => void} [options.onEvent] told every event (its JSON) after the list showed it
   * @param {() => void} [options.onFollowing] told when the events stream (re)opened (what changed meanwhile was
   *   not an event on it)
   */
  constructor({ api, fetchWithToken, onEvent = () => {}, onFollowing = () => {} }) {
    this.onCameraEvent = onEvent;
    this.api = api;
    this.usable = false;
    this.settings = null; // the last settings shown
    this.modes = []; // gpio.mode choices of the camera
    this.gpioSupported = false;
    this.dirty = new Set(); // GPIO lines whose mode the user changed and has not applied
    this.events = new EventStreamFollower(
      fetchWithToken,
      "events",
      (event) => this.onEvent(event),
      (connected) => {
        $("events-state").textContent = connected ? "following" : "reconnecting\u2026";
        if (connected) {
          onFollowing();
        }
      },
    );
    $("trigger-fire").addEventListener("click", () => this.fire());
    $("gpio-apply").addEventListener("click", () => this.applyGpio());
    $("io-read").addEventListener("click", () => this.readIo());
  }

  /** The GPIO controls for the camera's features (the settings follow with show()). */
  render(camera) {
    const mode = camera.features.find((feature) => feature.name === "gpio.mode");
    this.modes = mode?.choices ?? [];
    this.gpioSupported = Boolean(mode?.supported);
    this.dirty.clear();
    $("gpio-lines").replaceChildren();
    this.setUsable(this.usable);
  }

  /** Show a settings snapshot: the Trigger button follows the trigger source, the GPIO rows the lines. */
  show(settings) {
    this.settings = settings;
    const lines = settings.gpio ?? [];
    const container = $("gpio-lines");
    const shown = [...container.querySelectorAll("select")].map((select) => Number(select.dataset.line));
    if (shown.join() !== lines.map((line) => line.line).join()) {
      container.replaceChildren(...lines.map((line) => this.row(line.line)));
      this.dirty.clear();
    }
    for (const line of lines) {
      if (!this.dirty.has(line.line)) {
        $(gpioControlId(line.line)).value = line.mode;
      }
    }
    $("trigger-source").textContent = settings.trigger?.source ?? "unknown";
    this.setUsable(this.usable);
  }

  row(line) {
    const row = document.createElement("div");
    row.className = "setting";
    const label = document.createElement("label");
    label.htmlFor = gpioControlId(line);
    label.textContent = `Line ${line}`;
    const select = document.createElement("select");
    select.id = gpioControlId(line);
    select.dataset.line = String(line);
    for (const mode of this.modes) {
      select.append(new Option(mode, mode));
    }
    select.addEventListener("change", () => this.dirty.add(line));
    const level = document.createElement("span");
    level.id = `gpio-${line}-level`;
    level.className = "muted";
    row.append(label, select, level);
    return row;
  }

  setUsable(usable) {
    this.usable = usable;
    const software = this.settings?.trigger?.source === SOFTWARE;
    const trigger = $("trigger-fire");
    trigger.disabled = !usable || !software;
    trigger.title = software ? "" : "the trigger source is not software (Camera settings, Trigger)";
    for (const select of $("gpio-lines").querySelectorAll("select")) {
      select.disabled = !usable || !this.gpioSupported;
    }
    $("gpio-apply").disabled = !usable || !this.gpioSupported;
    $("io-read").disabled = !usable || !this.gpioSupported;
  }

  async fire() {
    try {
      const fired = await this.api("POST", "trigger");
      const metadata = fired.metadata;
      const frames = fired.frame_numbers.join(", ");
      this.say("trigger-message", `frame ${frames} (trigger ${metadata.trigger_count}, camera time ${metadata.camera_time_s.toFixed(6)} s)`, false);
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say("trigger-message", error.message, true);
      }
    }
  }

  /** PATCH the whole GPIO list: each line as it is, with the mode chosen here. */
  async applyGpio() {
    const lines = (this.settings?.gpio ?? []).map((line) => ({ ...line, mode: $(gpioControlId(line.line)).value }));
    try {
      const applied = await this.api("PATCH", "settings", { gpio: lines });
      this.dirty.clear();
      this.show(applied);
      this.say("io-message", `GPIO applied (revision ${applied.revision})`, false);
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say("io-message", error.message, true);
      }
    }
  }

  async readIo() {
    try {
      const io = await this.api("GET", "io");
      for (const line of io.lines) {
        const level = $(`gpio-${line.line}-level`);
        if (level) {
          level.textContent = line.mode === "input" ? (line.high ? "high" : "low") : "";
        }
      }
      const temperature = io.sensor_temperature_c;
      this.say("io-message", temperature === null ? "inputs read" : `inputs read; sensor ${temperature.toFixed(1)} \u00b0C`, false);
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say("io-message", error.message, true);
      }
    }
  }

  say(id, text, isError) {
    $(id).textContent = text;
    $(id).classList.toggle("error", Boolean(isError));
  }

  // -- events ----------------------------------------------------------------------------------------------

  startEvents() {
    this.events.start();
  }

  stopEvents() {
    this.events.stop();
    $("events-state").textContent = "not following";
  }

  /** One event of GET /events: named by its type, its data every field of the event. */
  onEvent({ event, data }) {
    if (event === "error") {
      $("events-state").textContent = JSON.parse(data).detail;
      return;
    }
    const parsed = JSON.parse(data);
    const item = document.createElement("li");
    item.dataset.type = parsed.type;
    item.classList.toggle("warning", WARNINGS.has(parsed.type));
    const time = parsed.time ? new Date(parsed.time).toLocaleTimeString() : "";
    const missed = parsed.missed_events ? ` (${parsed.missed_events} missed before)` : "";
    const free = parsed.type === "disk_space_low" && parsed.free_bytes ? ` (${(parsed.free_bytes / BYTES_PER_MIB).toFixed(0)} MiB free)` : "";
    const recording = parsed.recording && !(parsed.message ?? "").includes(parsed.recording) ? ` [${parsed.recording}]` : "";
    item.textContent = `#${parsed.sequence_number} ${time} ${parsed.type.replaceAll("_", " ")}: ${parsed.message}${recording}${free}${missed}`;
    const list = $("events-list");
    list.prepend(item);
    while (list.children.length > EVENTS_SHOWN) {
      list.lastElementChild.remove();
    }
    this.onCameraEvent(parsed);
  }
}
