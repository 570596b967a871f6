// The viewer page: live view, exposure and gain controls, capture, camera status.
// Plain JavaScript against the gateway's REST API; every URL is relative to the page.
//
// Tokens: when the gateway asks for one (a 401), the page shows a sign-in form. The token is kept in
// this tab's sessionStorage only (never a cookie, never localStorage: it is gone when the tab closes,
// and no other site's request can carry it), and every request sends it as `Authorization: Bearer`.
// An <img src> cannot send that header, so the live view is the multipart MJPEG stream read with
// fetch() and its JPEG parts drawn on a canvas, and capture images are fetched and drawn the same way.
//
// The other camera settings and presets are in settings-panel.js (a module, as this); the Trigger button, the GPIO
// lines and the events list (GET /events, which also keeps the settings panel and the recordings current) in
// trigger-panel.js; the histogram, statistics, focus and clipped-pixel overlay in statistics-panel.js; drawing the
// region on the image in roi-tool.js; the capture gallery in gallery.js; recording in recordings-panel.js.
//
// Streams the page holds open: the live view, GET /events, GET /stream/stats and, while a recording runs, its
// progress (GET /recordings/{id}/events): four, the gateway's default REST_MAX_STREAMS_PER_CLIENT.
import { CaptureGallery, captureUrl, thumbnailUrl } from "./gallery.js";
import { RecordingsPanel } from "./recordings-panel.js";
import { RoiTool } from "./roi-tool.js";
import { SettingsPanel } from "./settings-panel.js";
import { StatisticsPanel } from "./statistics-panel.js";
import { TriggerPanel } from "./trigger-panel.js";

const HEALTH_POLL_MS = 2000;
const LIVE_RETRY_MS = 2000;
const LIVE_MAX_FPS = 15;
/** Widest live image the page asks for when it fits the view, pixels (1:1 zoom asks for the full width). */
const LIVE_MAX_WIDTH = 1920;
const LIVE_MIN_WIDTH = 320;
const SLIDER_STEPS = 1000;
/** sessionStorage key of the access token. */
const TOKEN_KEY = "camera-grpc.token";
/** Width of the last capture's thumbnail, pixels (made by the service). */
const THUMBNAIL_WIDTH = 640;
/** How long a downloaded capture's object URL is kept before it is revoked, ms. */
const DOWNLOAD_URL_TTL_MS = 60_000;

const $ = (id) => document.getElementById(id);

const state = {
  range: null, // {minExposure, maxExposure, minGain, maxGain}
  health: "unknown",
  liveRetry: null,
  live: null, // the AbortController of the open live stream
  liveFrames: 0,
  panel: null, // the SettingsPanel
  trigger: null, // the TriggerPanel
  statistics: null, // the StatisticsPanel
  roi: null, // the RoiTool
  gallery: null, // the CaptureGallery
  recordings: null, // the RecordingsPanel
  actualSize: false, // zoom 1:1: one image pixel per screen pixel
};

// -- token -------------------------------------------------------------------------------

const token = {
  get() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null; // storage disabled: no token can be kept
    }
  },
  set(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
  },
  clear() {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // nothing was kept
    }
  },
};

/** A request the gateway refused for want of a (valid) token: the sign-in form is showing. */
class Unauthorized extends Error {
  constructor() {
    super("sign in with an access token");
    this.name = "Unauthorized";
  }
}

/** `headers` plus `Authorization: Bearer <token>` when a token is kept. */
function withToken(headers = {}) {
  const value = token.get();
  return value ? { ...headers, Authorization: `Bearer ${value}` } : headers;
}

/** fetch() with the token; a 401 shows the sign-in form and throws Unauthorized. */
async function authorizedFetch(path, options = {}) {
  const response = await fetch(path, { ...options, headers: withToken(options.headers), credentials: "omit" });
  if (response.status === 401) {
    needToken();
    throw new Unauthorized();
  }
  return response;
}

/** Forget the token (refused, or signed out), stop what needs one, and show the sign-in form. */
function needToken(message) {
  const hadToken = Boolean(token.get());
  token.clear();
  stopLive("sign in to see the live view");
  state.trigger.stopEvents();
  state.recordings.unfollow();
  $("sign-out").hidden = true;
  $("viewer").hidden = true;
  $("login").hidden = false;
  const text = message ?? (hadToken ? "The token was not accepted (unknown, revoked or mistyped)." : "");
  showMessage($("login-message"), text, Boolean(text) && message === undefined);
  $("token").focus();
}

function signIn(event) {
  event.preventDefault();
  const value = $("token").value.trim();
  if (!value) {
    showMessage($("login-message"), "Enter the access token.", true);
    return;
  }
  token.set(value);
  $("token").value = "";
  showMessage($("login-message"), "", false);
  $("login").hidden = true;
  $("viewer").hidden = false;
  $("sign-out").hidden = false;
  if (state.health === "healthy") {
    connect();
  }
}

function signOut() {
  token.clear();
  needToken("Signed out.");
}

// -- API ---------------------------------------------------------------------------------

/** Call the REST API; resolve to the JSON body, or throw an Error with the API's message and the HTTP `status`
 * (Unauthorized: 401). */
async function api(method, path, body, headers = {}) {
  const options = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await authorizedFetch(path, options);
  const data = await jsonOf(response);
  if (!response.ok) {
    const error = new Error(errorMessage(data, response.status));
    error.status = response.status;
    throw error;
  }
  return data;
}

async function jsonOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function errorMessage(data, status) {
  if (data && Array.isArray(data.detail)) {
    return data.detail.map((issue) => issue.msg).join("; ");
  }
  if (data && typeof data.detail === "string") {
    return data.detail;
  }
  return `HTTP ${status}`;
}

function showMessage(element, text, isError) {
  element.textContent = text;
  element.classList.toggle("error", Boolean(isError));
}

// -- status ------------------------------------------------------------------------------

const STATUS_TEXT = {
  healthy: "camera connected",
  degraded: "camera not connected",
  unavailable: "camera service unreachable",
  unknown: "connecting\u2026",
};

async function pollHealth() {
  let health = "unavailable";
  try {
    health = (await api("GET", "health")).status; // open: no token needed
  } catch {
    health = "unavailable";
  }
  const previous = state.health;
  state.health = health;
  const badge = $("status");
  badge.dataset.state = health;
  badge.textContent = STATUS_TEXT[health] || health;
  const usable = health === "healthy";
  for (const id of ["apply", "capture", "exposure", "gain", "exposure-slider", "gain-slider"]) {
    $(id).disabled = !usable;
  }
  state.panel.setUsable(usable);
  state.trigger.setUsable(usable);
  state.recordings.setUsable(usable);
  if (usable && previous !== "healthy") {
    await connect();
  } else if (!usable && previous !== health) {
    stopLive(STATUS_TEXT[health]);
  }
  setTimeout(pollHealth, HEALTH_POLL_MS);
}

/** Load what the page shows and start the live view (once the camera is usable, or after signing in). */
async function connect() {
  if (!$("login").hidden) {
    return; // waiting for a token
  }
  try {
    await loadCamera();
  } catch (error) {
    if (error instanceof Unauthorized) {
      return;
    }
    showMessage($("settings-message"), error.message, true);
  }
  startLive();
  state.trigger.startEvents();
  state.panel.loadPresets();
  state.gallery.load();
  state.recordings.load();
}

// -- live view ---------------------------------------------------------------------------

function startLive() {
  closeStream();
  clearTimeout(state.liveRetry);
  const params = new URLSearchParams({ max_fps: String(LIVE_MAX_FPS) });
  if (!state.actualSize) {
    const fit = Math.round($("frame").clientWidth * (window.devicePixelRatio || 1));
    params.set("max_width", String(Math.min(Math.max(fit, LIVE_MIN_WIDTH), LIVE_MAX_WIDTH)));
  }
  const controller = new AbortController();
  state.live = controller;
  state.statistics.start();
  readLive(`stream.mjpg?${params}`, controller.signal).then(
    () => onLiveEnd(controller, null),
    (error) => onLiveEnd(controller, error),
  );
}

/** Read the MJPEG stream at `url` and draw each of its frames until it ends or `signal` aborts it. */
async function readLive(url, signal) {
  const response = await authorizedFetch(url, {
    headers: { Accept: "multipart/x-mixed-replace, image/jpeg" },
    signal,
    cache: "no-store",
  });
  if (!response.ok || !response.body) {
    throw new Error(errorMessage(await jsonOf(response), response.status));
  }
  const parts = new MultipartReader(response.body.getReader(), boundaryOf(response.headers.get("Content-Type")));
  try {
    for (let jpeg = await parts.next(); jpeg !== null && !signal.aborted; jpeg = await parts.next()) {
      await drawLiveFrame(jpeg); // one at a time: a slow page reads slower, and the gateway skips frames
    }
  } finally {
    parts.cancel();
  }
}

/** The boundary of a `multipart/...; boundary=xyz` content type. */
function boundaryOf(contentType) {
  const match = /boundary="?([^";,]+)"?/i.exec(contentType || "");
  if (!match) {
    throw new Error("the live stream is not multipart");
  }
  return match[1];
}

const CRLF_CRLF = new Uint8Array([13, 10, 13, 10]);

/** The parts of a multipart stream (MJPEG: one JPEG each), read from a ReadableStream's reader. */
class MultipartReader {
  constructor(reader, boundary) {
    this.reader = reader;
    this.delimiter = new TextEncoder().encode(`--${boundary}`);
    this.buffer = new Uint8Array(0);
  }

  /** The next part's body, or null when the stream ends. */
  async next() {
    for (;;) {
      const part = this.take();
      if (part !== undefined) {
        return part;
      }
      const { value, done } = await this.reader.read();
      if (done) {
        return null;
      }
      const merged = new Uint8Array(this.buffer.length + value.length);
      merged.set(this.buffer);
      merged.set(value, this.buffer.length);
      this.buffer = merged;
    }
  }

  /** A whole part from the buffer (removed from it), or undefined if it has not arrived yet. */
  take() {
    const start = indexOf(this.buffer, this.delimiter, 0);
    if (start < 0) {
      return undefined;
    }
    const headersEnd = indexOf(this.buffer, CRLF_CRLF, start);
    if (headersEnd < 0) {
      return undefined;
    }
    const headers = new TextDecoder().decode(this.buffer.subarray(start + this.delimiter.length, headersEnd));
    const bodyStart = headersEnd + CRLF_CRLF.length;
    const length = /content-length:\s*(\d+)/i.exec(headers);
    let bodyEnd;
    if (length) {
      bodyEnd = bodyStart + Number(length[1]);
      if (this.buffer.length < bodyEnd) {
        return undefined;
      }
    } else {
      const next = indexOf(this.buffer, this.delimiter, bodyStart);
      if (next < 0) {
        return undefined;
      }
      bodyEnd = Math.max(bodyStart, next - 2); // the CRLF before the next delimiter
    }
    const body = this.buffer.slice(bodyStart, bodyEnd);
    this.buffer = this.buffer.slice(bodyEnd);
    return body;
  }

  cancel() {
    this.reader.cancel().catch(() => null);
  }
}

/** Where `needle` starts in `haystack` at or after `from`, or -1. */
function indexOf(haystack, needle, from) {
  const last = haystack.length - needle.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) {
        continue outer;
      }
    }
    return i;
  }
  return -1;
}

/** Decode an image and draw it on `canvas`, sized to the image (scaled to `width` if given); false if it
 * could not be decoded. */
async function drawJpeg(canvas, bytes, width) {
  const blob = bytes instanceof Blob ? bytes : new Blob([bytes], { type: "image/jpeg" });
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, width ? { resizeWidth: width, resizeQuality: "medium" } : {});
  } catch {
    return false;
  }
  try {
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
  } finally {
    bitmap.close();
  }
  return true;
}

async function drawLiveFrame(jpeg) {
  const canvas = $("live");
  if (!(await drawJpeg(canvas, jpeg))) {
    return; // a damaged frame: skip it
  }
  state.liveFrames += 1;
  canvas.dataset.frames = String(state.liveFrames);
  if (state.liveFrames === 1) {
    $("live-message").hidden = true;
  }
  if (state.actualSize) {
    const ratio = window.devicePixelRatio || 1;
    $("stage").style.width = `${canvas.width / ratio}px`;
  }
  const zoom = state.actualSize ? "1:1" : "fitted";
  $("live-info").textContent = `live ${canvas.width}\u00d7${canvas.height} (${zoom}), up to ${LIVE_MAX_FPS} fps`;
  state.statistics.onLiveFrame(canvas);
}

/** Zoom 1:1 (full-resolution frames, scrolled) or fitted to the page, and the live stream asked again. */
function toggleZoom() {
  state.actualSize = !state.actualSize;
  $("zoom").setAttribute("aria-pressed", String(state.actualSize));
  $("frame").classList.toggle("actual-size", state.actualSize);
  $("stage").style.width = "";
  if (state.live) {
    startLive();
  }
}

/** End the open live stream, if any (its fetch is aborted: the gateway ends the subscription). */
function closeStream() {
  if (state.live) {
    state.live.abort();
    state.live = null;
  }
  state.statistics.stop();
  state.liveFrames = 0;
}

/** Close the live stream (the service ends it anyway when the camera goes) and say why. */
function stopLive(reason) {
  clearTimeout(state.liveRetry);
  closeStream();
  $("live-message").textContent = `No live image: ${reason}`;
  $("live-message").hidden = false;
  $("live-info").textContent = "";
}

function onLiveEnd(controller, error) {
  if (controller.signal.aborted || state.live !== controller) {
    return; // stopped on purpose, or replaced by a newer stream
  }
  state.live = null;
  state.statistics.stop();
  if (error instanceof Unauthorized) {
    return; // the sign-in form is showing
  }
  $("live-message").textContent = "No live image; retrying\u2026";
  $("live-message").hidden = false;
  $("live-info").textContent = "";
  clearTimeout(state.liveRetry);
  if (state.health === "healthy") {
    state.liveRetry = setTimeout(startLive, LIVE_RETRY_MS);
  }
}

// -- settings ----------------------------------------------------------------------------

function exposureToSlider(ms) {
  const { minExposure: lo, maxExposure: hi } = state.range;
  const clamped = Math.min(Math.max(ms, lo), hi);
  return Math.round((Math.log(clamped / lo) / Math.log(hi / lo)) * SLIDER_STEPS);
}

function sliderToExposure(position) {
  const { minExposure: lo, maxExposure: hi } = state.range;
  const value = lo * Math.pow(hi / lo, position / SLIDER_STEPS);
  return Number(value.toPrecision(3));
}

/** The camera's ranges and current settings into the form. Throws Unauthorized (and only that). */
async function loadCamera() {
  try {
    const camera = await api("GET", "camera");
    state.range = {
      minExposure: camera.min_exposure_ms,
      maxExposure: camera.max_exposure_ms,
      minGain: camera.min_gain_db,
      maxGain: camera.max_gain_db,
    };
    $("camera-name").textContent = `${camera.model} \u00b7 ${camera.serial_number} (${camera.driver})`;
    $("exposure").min = camera.min_exposure_ms;
    $("exposure").max = camera.max_exposure_ms;
    $("exposure-range").textContent = `${camera.min_exposure_ms} to ${camera.max_exposure_ms} ms`;
    for (const id of ["gain", "gain-slider"]) {
      $(id).min = camera.min_gain_db;
      $(id).max = camera.max_gain_db;
    }
    $("gain-range").textContent = `${camera.min_gain_db} to ${camera.max_gain_db} dB`;
    state.trigger.render(camera);
    state.roi.setFeatures(camera.features);
    state.panel.render(camera, await api("GET", "settings")); // shows exposure and gain too (showSettings)
  } catch (error) {
    if (error instanceof Unauthorized) {
      throw error;
    }
    showMessage($("settings-message"), error.message, true);
  }
}

function showSettings(settings) {
  state.trigger.show(settings);
  state.roi.show(settings);
  $("exposure").value = settings.exposure;
  $("gain").value = settings.gain;
  if (state.range) {
    $("exposure-slider").value = exposureToSlider(settings.exposure);
  }
  $("gain-slider").value = settings.gain;
}

async function applySettings(event) {
  if (event) {
    event.preventDefault();
  }
  // The service checks the values against the camera's ranges and says what is allowed.
  const exposure = Number($("exposure").value);
  const gain = Number($("gain").value);
  try {
    const applied = await api("PUT", "settings", { exposure, gain });
    state.panel.show(applied); // its revision too
    showMessage($("settings-message"), `applied: ${applied.exposure} ms, ${applied.gain} dB`, false);
  } catch (error) {
    if (!(error instanceof Unauthorized)) {
      showMessage($("settings-message"), error.message, true);
    }
  }
}

// -- captures ----------------------------------------------------------------------------

/** A link to a saved capture. With a token, a click downloads it with the token (a plain link sends none). */
function captureLink(link, filename) {
  link.href = captureUrl(filename);
  link.dataset.filename = filename;
}

function onCaptureLinkClick(event) {
  const link = event.target.closest("a[data-filename]");
  if (!link || !token.get()) {
    return; // no token: the plain link works
  }
  event.preventDefault();
  download(captureUrl(link.dataset.filename), link.dataset.filename, (message) =>
    showMessage($("capture-message"), message, true),
  );
}

/** Save the file at `path` as `filename`: a plain download link without a token; with one, the file is fetched
 * with it and saved from memory (a link cannot send the header). */
async function download(path, filename, onError) {
  if (!token.get()) {
    saveAs(path, filename);
    return;
  }
  try {
    const response = await authorizedFetch(path);
    if (!response.ok) {
      throw new Error(errorMessage(await jsonOf(response), response.status));
    }
    const url = URL.createObjectURL(await response.blob());
    saveAs(url, filename);
    setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_TTL_MS);
  } catch (error) {
    if (!(error instanceof Unauthorized)) {
      onError(error.message);
    }
  }
}

function saveAs(url, filename) {
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}

/** Draw the service's thumbnail of a saved capture (fetched with the token; never the full image). */
async function showThumbnail(filename) {
  const thumb = $("capture-thumb");
  thumb.dataset.loaded = "false";
  const response = await authorizedFetch(thumbnailUrl(filename, THUMBNAIL_WIDTH));
  if (response.ok && (await drawJpeg(thumb, await response.blob()))) {
    thumb.dataset.loaded = "true";
  } else {
    thumb.dataset.loaded = `HTTP ${response.status}`;
  }
}

async function capture() {
  const button = $("capture");
  button.disabled = true;
  showMessage($("capture-message"), "capturing\u2026", false);
  try {
    const result = await api("POST", "capture", {});
    captureLink($("capture-link"), result.filename);
    captureLink($("capture-name"), result.filename);
    $("capture-name").textContent = result.filename;
    const kib = (result.size_bytes / 1024).toFixed(0);
    $("capture-details").textContent =
      ` ${result.width}\u00d7${result.height} ${result.format}, ${kib} KiB, ${result.exposure} ms, ${result.gain} dB`;
    $("capture-result").hidden = false;
    showMessage($("capture-message"), "saved", false);
    await Promise.all([showThumbnail(result.filename), state.gallery.load()]);
  } catch (error) {
    if (!(error instanceof Unauthorized)) {
      showMessage($("capture-message"), error.message, true);
    }
  } finally {
    button.disabled = state.health !== "healthy";
  }
}

// -- recordings and geometry -------------------------------------------------------------

/** A recording runs (its name) or none (""): geometry controls are held meanwhile, saying by which. */
function onRecordingRunning(name) {
  state.panel.setHeldBy(name);
  state.roi.setHeldBy(name);
}

/** Every event of GET /events, after the events list showed it. */
function onCameraEvent(event) {
  state.panel.onCameraEvent(event);
  state.recordings.onCameraEvent(event);
}

// -- wiring ------------------------------------------------------------------------------

function init() {
  state.trigger = new TriggerPanel({
    api,
    fetchWithToken: authorizedFetch,
    onEvent: onCameraEvent,
    onFollowing: () => state.panel.refresh(),
  });
  state.panel = new SettingsPanel({ api, onSettings: showSettings });
  state.statistics = new StatisticsPanel({ fetchWithToken: authorizedFetch });
  state.roi = new RoiTool({ apply: (roi) => state.panel.patch({ roi }) });
  state.gallery = new CaptureGallery({ api, fetchWithToken: authorizedFetch, drawImage: drawJpeg });
  state.recordings = new RecordingsPanel({
    api,
    fetchWithToken: authorizedFetch,
    drawImage: drawJpeg,
    download,
    onRunning: onRecordingRunning,
  });
  $("live").getContext("2d", { willReadFrequently: true }); // the clipped-pixel overlay reads its pixels
  $("zoom").addEventListener("click", toggleZoom);
  $("roi-full").addEventListener("click", () => state.panel.fullSensor());
  $("login-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("sign-out").hidden = !token.get();
  $("settings-form").addEventListener("submit", applySettings);
  $("exposure-slider").addEventListener("input", (event) => {
    if (state.range) {
      $("exposure").value = sliderToExposure(Number(event.target.value));
    }
  });
  $("gain-slider").addEventListener("input", (event) => {
    $("gain").value = event.target.value;
  });
  for (const id of ["exposure-slider", "gain-slider"]) {
    $(id).addEventListener("change", () => applySettings());
  }
  $("capture").addEventListener("click", capture);
  document.addEventListener("click", onCaptureLinkClick);
  pollHealth();
}

document.addEventListener("DOMContentLoaded", init);
