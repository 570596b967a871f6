// The viewer page: live view, exposure and gain controls, capture, camera status.
// Plain JavaScript against the gateway's REST API; every URL is relative to the page.
"use strict";

const HEALTH_POLL_MS = 2000;
const LIVE_RETRY_MS = 2000;
const LIVE_MAX_FPS = 15;
const RECENT_COUNT = 5;
const SLIDER_STEPS = 1000;

const $ = (id) => document.getElementById(id);

const state = {
  range: null, // {minExposure, maxExposure, minGain, maxGain}
  health: "unknown",
  liveRetry: null,
};

// -- API ---------------------------------------------------------------------------------

/** Call the REST API; resolve to the JSON body, or throw an Error with the API's message. */
async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new Error(errorMessage(data, response.status));
  }
  return data;
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
    health = (await api("GET", "health")).status;
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
  if (usable && previous !== "healthy") {
    await loadCamera();
    startLive();
  } else if (!usable && previous !== health) {
    stopLive(STATUS_TEXT[health]);
  }
  setTimeout(pollHealth, HEALTH_POLL_MS);
}

// -- live view ---------------------------------------------------------------------------

function startLive() {
  clearTimeout(state.liveRetry);
  const live = $("live");
  const width = Math.min(Math.max(Math.round(live.clientWidth * (window.devicePixelRatio || 1)), 320), 1920);
  const params = new URLSearchParams({ max_width: String(width), max_fps: String(LIVE_MAX_FPS) });
  params.set("t", String(Date.now())); // a new connection every time
  live.src = `stream.mjpg?${params}`;
}

/** Close the live stream (the service ends it anyway when the camera goes) and say why. */
function stopLive(reason) {
  clearTimeout(state.liveRetry);
  $("live").removeAttribute("src");
  $("live-message").textContent = `No live image: ${reason}`;
  $("live-message").hidden = false;
  $("live-info").textContent = "";
}

function onLiveLoad() {
  $("live-message").hidden = true;
  const live = $("live");
  $("live-info").textContent = `live ${live.naturalWidth}\u00d7${live.naturalHeight}, up to ${LIVE_MAX_FPS} fps`;
}

function onLiveError() {
  if (!$("live").getAttribute("src")) {
    return; // stopped on purpose
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
    showSettings(await api("GET", "settings"));
  } catch (error) {
    showMessage($("settings-message"), error.message, true);
  }
}

function showSettings(settings) {
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
    showSettings(applied);
    showMessage($("settings-message"), `applied: ${applied.exposure} ms, ${applied.gain} dB`, false);
  } catch (error) {
    showMessage($("settings-message"), error.message, true);
  }
}

// -- captures ----------------------------------------------------------------------------

function captureUrl(filename) {
  return `captures/${encodeURIComponent(filename)}`;
}

async function capture() {
  const button = $("capture");
  button.disabled = true;
  showMessage($("capture-message"), "capturing\u2026", false);
  try {
    const result = await api("POST", "capture", {});
    const url = captureUrl(result.filename);
    $("capture-link").href = url;
    $("capture-thumb").src = url;
    $("capture-name").href = url;
    $("capture-name").textContent = result.filename;
    const kib = (result.size_bytes / 1024).toFixed(0);
    $("capture-details").textContent =
      ` ${result.width}\u00d7${result.height} ${result.format}, ${kib} KiB, ${result.exposure} ms, ${result.gain} dB`;
    $("capture-result").hidden = false;
    showMessage($("capture-message"), "saved", false);
    await loadRecent();
  } catch (error) {
    showMessage($("capture-message"), error.message, true);
  } finally {
    button.disabled = state.health !== "healthy";
  }
}

async function loadRecent() {
  try {
    const page = await api("GET", `captures?page_size=${RECENT_COUNT}`);
    const list = $("recent");
    list.replaceChildren(
      ...page.captures.map((entry) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = captureUrl(entry.filename);
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = entry.filename;
        item.append(link);
        return item;
      }),
    );
  } catch {
    // the list is a convenience; the status badge reports outages
  }
}

// -- wiring ------------------------------------------------------------------------------

function init() {
  $("live").addEventListener("load", onLiveLoad);
  $("live").addEventListener("error", onLiveError);
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
  pollHealth();
  loadRecent();
}

document.addEventListener("DOMContentLoaded", init);
