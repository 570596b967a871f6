// Recording from the viewer page (issues 14 and 17): the Record button (format; stop after frames, seconds or when
// stopped) as POST /recordings, live progress (frames written and dropped, rate) from GET /recordings/{id}/events
// (Server-Sent Events, the recording's JSON on every change), the Stop button (POST /recordings/{id}/stop), and the
// recordings browser: GET /recordings with a thumbnail each (GET /recordings/{id}/thumbnail, made by the service,
// never a full frame), state, frames, a download link per file (GET /recordings/{id}/files/{file}), Delete.
//
// While a recording runs, settings that change the frames' geometry are refused by the service (409 naming the
// recording); the page disables those controls meanwhile (onRunning), saying why.
import { EventStreamFollower } from "./event-stream.js";

/** Recordings the browser lists (newest first). */
const RECORDINGS_SHOWN = 10;
/** Width of a recording's thumbnail, pixels. */
const THUMBNAIL_WIDTH = 160;
const NAME_PREFIX = "recordings/";
const STATE_PREFIX = "recording_state_";
const RUNNING = "running";
const FINAL_STATES = new Set(["completed", "stopped", "failed"]);
const BYTES_PER_MIB = 1024 * 1024;
/** How often a running recording is read when its progress stream cannot be opened, ms. */
const POLL_MS = 1000;
/** Height of a thumbnail canvas before its image arrives, as a fraction of its width. */
const PLACEHOLDER_ASPECT = 3 / 4;
/** Events of GET /events after which the browser is loaded again. */
const RECORDING_EVENTS = new Set(["recording_started", "recording_ended", "recording_failed"]);

const $ = (id) => document.getElementById(id);

/** A recording's id, from its JSON (`recording_id`, or the last part of `name`). */
export function recordingId(recording) {
  return recording.recording_id ?? recording.id ?? String(recording.name ?? "").replace(NAME_PREFIX, "");
}

/** A recording's state in lower case without the enum prefix: running, completed, stopped, failed. */
export function recordingState(recording) {
  return String(recording.state ?? "").toLowerCase().replace(STATE_PREFIX, "");
}

function filesOf(recording) {
  return recording.files ?? [];
}

function mib(bytes) {
  return `${(Number(bytes ?? 0) / BYTES_PER_MIB).toFixed(1)} MiB`;
}

/** "123 written, 0 dropped, 9.9 fps" */
function progressText(recording) {
  const rate = Number(recording.rate_fps ?? 0).toFixed(1);
  return `${recording.frames_written ?? 0} written, ${recording.frames_dropped ?? 0} dropped, ${rate} fps, ${mib(recording.bytes_written)}`;
}

export class RecordingsPanel {
  /**
   * @param {object} options
   * @param {(method: string, path: string, body?: object, headers?: object) => Promise<any>} options.api
   * @param {(path: string, options?: object) => Promise<Response>} options.fetchWithToken
   * @param {(canvas: HTMLCanvasElement, blob: Blob, width?: number) => Promise<boolean>} options.drawImage
   * @param {(path: string, filename: string, onError: (message: string) => void) => void} options.download
   * @param {(recording: string) => void} options.onRunning told the running recording's name, or "" when none runs
   */
  constructor({ api, fetchWithToken, drawImage, download, onRunning }) {
    this.api = api;
    this.fetchWithToken = fetchWithToken;
    this.drawImage = drawImage;
    this.download = download;
    this.onRunning = onRunning;
    this.usable = false;
    this.running = null; // the running recording's JSON, or null
    this.available = true; // false: the gateway has no /recordings
    this.follower = null; // the progress stream of the running recording
    this.thumbnails = new Map(); // recording id -> canvas drawn once it ended
    $("record-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    $("record-stop").addEventListener("click", () => this.stop());
    $("record-limit").addEventListener("change", () => this.setUsable(this.usable));
    $("recordings").addEventListener("click", (event) => this.onListClick(event));
  }

  setUsable(usable) {
    this.usable = usable;
    const idle = usable && this.available && !this.running;
    for (const id of ["record", "record-format", "record-limit"]) {
      $(id).disabled = !idle;
    }
    $("record-amount").disabled = !idle || $("record-limit").value === "none";
    $("record-stop").disabled = !this.available || !this.running;
  }

  // -- starting and following ----------------------------------------------------------------------------------

  /** The POST /recordings body from the form. */
  request() {
    const body = { format: $("record-format").value };
    const amount = Number($("record-amount").value);
    const limit = $("record-limit").value;
    if (limit === "frames") {
      body.max_frames = amount;
    } else if (limit === "seconds") {
      body.max_duration_s = amount;
    }
    return body;
  }

  async start() {
    this.say("record-message", "starting\u2026", false);
    try {
      const recording = await this.api("POST", "recordings", this.request());
      this.say("record-message", `recording ${recordingId(recording)}`, false);
      this.follow(recording);
      await this.load();
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say("record-message", error.message, true);
      }
    }
  }

  async stop() {
    if (!this.running) {
      return;
    }
    $("record-stop").disabled = true;
    try {
      const recording = await this.api("POST", `recordings/${encodeURIComponent(recordingId(this.running))}/stop`);
      this.showProgress(recording);
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say("record-message", error.message, true);
      }
      this.setUsable(this.usable);
    }
  }

  /** Show `recording` (running) and follow its progress stream until it ends. */
  follow(recording) {
    const id = recordingId(recording);
    if (this.follower && this.running && recordingId(this.running) === id) {
      return; // following it already
    }
    this.unfollow();
    this.showProgress(recording);
    this.follower = new EventStreamFollower(
      this.fetchWithToken,
      `recordings/${encodeURIComponent(id)}/events`,
      ({ event, data }) => {
        if (event !== "error") {
          this.showProgress(JSON.parse(data));
        }
      },
      () => {},
      () => {
        // a stream refused (e.g. 429: too many streams from this address) or a gateway without it: poll instead
        this.poll(id);
        return false;
      },
    );
    this.follower.start();
  }

  unfollow() {
    if (this.follower) {
      this.follower.stop();
      this.follower = null;
    }
    clearTimeout(this.polling);
  }

  /** GET /recordings/{id} once a second while it runs (when its progress stream cannot be opened). */
  async poll(id) {
    try {
      const recording = await this.api("GET", `recordings/${encodeURIComponent(id)}`);
      this.showProgress(recording);
      if (recordingState(recording) === RUNNING) {
        this.polling = setTimeout(() => this.poll(id), POLL_MS);
      }
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say("record-message", error.message, true);
      }
    }
  }

  /** Show a recording's progress; once it ended, the browser is loaded again. */
  showProgress(recording) {
    const state = recordingState(recording);
    const id = recordingId(recording);
    const total = Number(recording.max_frames ?? 0);
    const bar = $("record-bar");
    if (total > 0) {
      bar.max = total;
      bar.value = Number(recording.frames_written ?? 0);
    } else {
      bar.removeAttribute("value"); // indeterminate
    }
    const status = $("record-status");
    status.dataset.state = state;
    status.dataset.recording = id;
    status.dataset.framesWritten = String(recording.frames_written ?? 0);
    const reason = recording.failure_reason ? ` (${recording.failure_reason})` : "";
    status.textContent = `${id}: ${state}${reason}; ${progressText(recording)}`;
    $("record-progress").hidden = false;
    if (state === RUNNING) {
      this.setRunning(recording);
    } else if (FINAL_STATES.has(state) && this.running && recordingId(this.running) === id) {
      this.setRunning(null);
      this.unfollow();
      this.say("record-message", `${id} ${state}${reason}`, state === "failed");
      this.load();
    }
  }

  setRunning(recording) {
    const before = this.running ? this.running.name ?? `${NAME_PREFIX}${recordingId(this.running)}` : "";
    this.running = recording;
    const now = recording ? recording.name ?? `${NAME_PREFIX}${recordingId(recording)}` : "";
    if (before !== now) {
      this.onRunning(now);
    }
    this.setUsable(this.usable);
  }

  /** An event of GET /events: a recording started elsewhere is followed, one that ended shown (the browser is
   * loaded again; it follows the running recording, even when the event does not name it). */
  onCameraEvent(event) {
    if (RECORDING_EVENTS.has(event.type)) {
      this.load();
    }
  }

  // -- the browser ---------------------------------------------------------------------------------------------

  /** List the recent recordings; one that is running is followed. */
  async load() {
    let page;
    try {
      page = await this.api("GET", `recordings?page_size=${RECORDINGS_SHOWN}`);
    } catch (error) {
      if (error.name === "Unauthorized") {
        return;
      }
      if (error.status === 404 || error.status === 405) {
        this.available = false;
        this.say("recordings-message", "recordings: not offered by this gateway (it has no /recordings)", true);
        this.setUsable(this.usable);
        return;
      }
      this.say("recordings-message", error.message, true);
      return;
    }
    this.available = true;
    this.say("recordings-message", "", false);
    const recordings = page.recordings ?? [];
    const running = recordings.find((recording) => recordingState(recording) === RUNNING);
    if (running) {
      this.follow(running);
    }
    $("recordings").replaceChildren(...recordings.map((recording) => this.item(recording)));
    this.setUsable(this.usable);
  }

  item(recording) {
    const id = recordingId(recording);
    const state = recordingState(recording);
    const item = document.createElement("li");
    item.dataset.recording = id;
    item.dataset.state = state;
    item.dataset.framesWritten = String(recording.frames_written ?? 0);
    const canvas = this.thumbnail(id, state);
    const text = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = id;
    const details = document.createElement("span");
    details.className = "muted details";
    const format = String(recording.format ?? "").toLowerCase().replace("recording_format_", "");
    const reason = recording.failure_reason ? ` (${recording.failure_reason})` : "";
    const started = recording.start_time ? new Date(recording.start_time).toLocaleString() : "";
    details.textContent = ` ${state}${reason}, ${recording.frames_written ?? 0} frames, ${recording.frames_dropped ?? 0} dropped, ${format}, ${started}`;
    const files = document.createElement("ul");
    files.className = "files";
    for (const file of filesOf(recording)) {
      const entry = document.createElement("li");
      const link = document.createElement("a");
      link.href = `recordings/${encodeURIComponent(id)}/files/${encodeURIComponent(file.name)}`;
      link.dataset.recordingFile = file.name;
      link.download = file.name;
      link.textContent = file.name;
      link.setAttribute("aria-label", `Download ${file.name} of ${id}`);
      entry.append(link, ` ${mib(file.size_bytes)}`);
      files.append(entry);
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary small";
    remove.textContent = "Delete";
    remove.dataset.delete = id;
    remove.setAttribute("aria-label", `Delete recording ${id}`);
    remove.disabled = state === RUNNING;
    text.append(title, details, files, remove);
    item.append(canvas, text);
    return item;
  }

  /** The recording's thumbnail canvas (fetched once; again while it runs, as its first frame may be new). */
  thumbnail(id, state) {
    if (this.thumbnails.has(id)) {
      return this.thumbnails.get(id);
    }
    const canvas = document.createElement("canvas");
    canvas.className = "thumb";
    canvas.width = THUMBNAIL_WIDTH;
    canvas.height = THUMBNAIL_WIDTH * PLACEHOLDER_ASPECT;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `First frame of ${id}`);
    canvas.dataset.loaded = "false";
    this.fetchWithToken(`recordings/${encodeURIComponent(id)}/thumbnail?max_width=${THUMBNAIL_WIDTH}`).then(
      async (response) => {
        if (response.ok && (await this.drawImage(canvas, await response.blob()))) {
          canvas.dataset.loaded = "true";
          if (state !== RUNNING) {
            this.thumbnails.set(id, canvas);
          }
        }
      },
      () => null,
    );
    return canvas;
  }

  onListClick(event) {
    const remove = event.target.closest("button[data-delete]");
    if (remove) {
      this.remove(remove.dataset.delete);
      return;
    }
    const link = event.target.closest("a[data-recording-file]");
    if (link) {
      event.preventDefault();
      this.download(link.getAttribute("href"), link.dataset.recordingFile, (message) =>
        this.say("recordings-message", message, true),
      );
    }
  }

  async remove(id) {
    if (!window.confirm(`Delete recording ${id} and its files?`)) {
      return;
    }
    try {
      await this.api("DELETE", `recordings/${encodeURIComponent(id)}`);
      this.thumbnails.delete(id);
      await this.load();
      this.say("recordings-message", `${id} deleted`, false);
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say("recordings-message", error.message, true);
      }
    }
  }

  say(id, text, isError) {
    $(id).textContent = text;
    $(id).classList.toggle("error", Boolean(isError));
  }
}
