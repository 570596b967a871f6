// Live image statistics of the viewer page (issue 17): the histogram (log or linear), minimum, maximum, mean and
// saturated fraction, and the focus score with its recent history, from GET /stream/stats (Server-Sent Events:
// one JSON per frame, computed by the service from the raw pixels at the sensor's bit depth); and the clipped-pixel
// overlay, drawn from the live JPEG preview (pixels at 255 there), which is what the page has at hand.
//
// The drawing functions take plain data, so a test can drive them with a statistics object of its own
// (window.cameraViewer.statistics.show(stats)).
import { EventStreamFollower } from "./event-stream.js";

/** Statistics per second the page asks for (a histogram is redrawn each time). */
const STATS_MAX_FPS = 5;
/** Histogram bins the page asks for (the canvas is 512 pixels wide: two pixels a bin). */
const HISTOGRAM_BINS = 256;
/** Focus scores the history plot keeps (at STATS_MAX_FPS: the last 20 seconds). */
const FOCUS_HISTORY = 100;
/** Colour of each channel's histogram. */
const CHANNEL_COLOURS = { mono: "#d0d4d9", red: "#ff5c5c", green: "#4cd964", blue: "#5b9bff" };
const FOCUS_COLOUR = "#e0a526";
/** The focus plot spans at least this fraction of its largest value (frame-to-frame noise stays small). */
const MIN_RELATIVE_SPAN = 0.05;
/** Colour of a clipped pixel in the overlay, RGBA. */
const CLIPPED_RGBA = [255, 0, 255, 255];
/** A preview sample at this value is clipped (8-bit JPEG). */
const PREVIEW_MAX = 255;
const PERCENT = 100;

const $ = (id) => document.getElementById(id);

/** Draw the histograms of `channels` ([{channel, histogram}]) on `canvas`, counts on a log scale if `log`. */
export function drawHistogram(canvas, channels, log) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const scale = (count) => (log ? Math.log1p(count) : count);
  let peak = 0;
  for (const { histogram } of channels) {
    for (const count of histogram) {
      peak = Math.max(peak, scale(count));
    }
  }
  if (peak === 0) {
    return;
  }
  context.globalCompositeOperation = channels.length > 1 ? "lighter" : "source-over";
  for (const { channel, histogram } of channels) {
    const binWidth = width / histogram.length;
    context.fillStyle = CHANNEL_COLOURS[channel] ?? CHANNEL_COLOURS.mono;
    context.globalAlpha = channels.length > 1 ? 0.6 : 1;
    histogram.forEach((count, bin) => {
      const barHeight = (scale(count) / peak) * height;
      context.fillRect(bin * binWidth, height - barHeight, Math.max(binWidth, 1), barHeight);
    });
  }
  context.globalAlpha = 1;
  context.globalCompositeOperation = "source-over";
}

/** Draw `values` (oldest first) as a line on `canvas`, scaled to their own range (at least MIN_RELATIVE_SPAN of the
 * largest); the newest is the right end. */
export function drawHistory(canvas, values, capacity) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  if (values.length === 0) {
    return;
  }
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = Math.max(high - low, Math.abs(high) * MIN_RELATIVE_SPAN) || 1;
  const step = width / Math.max(capacity - 1, 1);
  const start = width - (values.length - 1) * step;
  context.strokeStyle = FOCUS_COLOUR;
  context.lineWidth = 2;
  context.beginPath();
  values.forEach((value, index) => {
    const x = start + index * step;
    const y = height - 2 - ((value - low) / span) * (height - 4);
    if (index === 0) {
      context.moveTo(x, y);
    } else {
      context.lineTo(x, y);
    }
  });
  context.stroke();
}

/** Mark the pixels of `source` (a canvas) at 255 in any channel on `overlay` (same size); returns how many. */
export function drawClipped(source, overlay) {
  if (overlay.width !== source.width || overlay.height !== source.height) {
    overlay.width = source.width;
    overlay.height = source.height;
  }
  const { width, height } = source;
  if (width === 0 || height === 0) {
    return 0;
  }
  const pixels = source.getContext("2d").getImageData(0, 0, width, height).data;
  const marks = new ImageData(width, height);
  const out = marks.data;
  let clipped = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i] >= PREVIEW_MAX || pixels[i + 1] >= PREVIEW_MAX || pixels[i + 2] >= PREVIEW_MAX) {
      out.set(CLIPPED_RGBA, i);
      clipped += 1;
    }
  }
  overlay.getContext("2d").putImageData(marks, 0, 0);
  return clipped;
}

/** A number as the page shows it: integers as they are, others to 4 significant digits. */
function shown(value) {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

export class StatisticsPanel {
  /**
   * @param {object} options
   * @param {(path: string, options?: object) => Promise<Response>} options.fetchWithToken
   */
  constructor({ fetchWithToken }) {
    this.last = null; // the last statistics shown
    this.focus = []; // recent focus scores, oldest first
    const params = new URLSearchParams({ max_fps: String(STATS_MAX_FPS), histogram_bins: String(HISTOGRAM_BINS) });
    this.events = new EventStreamFollower(
      fetchWithToken,
      `stream/stats?${params}`,
      (event) => this.onEvent(event),
      (connected) => this.onState(connected),
      (error) => this.onError(error),
    );
    $("histogram-log").addEventListener("change", () => this.redraw());
    $("clipped-overlay").addEventListener("change", () => {
      $("clipped").hidden = !$("clipped-overlay").checked;
      $("clipped").dataset.count = "";
    });
  }

  start() {
    this.events.start();
  }

  stop() {
    this.events.stop();
  }

  onState(connected) {
    $("statistics-state").textContent = connected ? "" : "statistics: reconnecting\u2026";
  }

  /** A stream that cannot open: 404 is a gateway without statistics (the panel says so and stops asking). */
  onError(error) {
    if (error.status === 404) {
      $("statistics-state").textContent = "statistics: not offered by this gateway (it has no GET /stream/stats)";
      $("statistics").dataset.state = "unavailable";
      return false;
    }
    $("statistics-state").textContent = `statistics: ${error.message}; retrying\u2026`;
    return true;
  }

  onEvent({ event, data }) {
    if (event === "error") {
      $("statistics-state").textContent = `statistics: ${JSON.parse(data).detail}`;
      return;
    }
    this.show(JSON.parse(data));
  }

  /** Show one frame's statistics ({bit_depth, channels[{channel, histogram, min, max, mean, saturated_fraction}],
   * focus_score, subsample_step, frame_number}). */
  show(stats) {
    this.last = stats;
    const channels = stats.channels ?? [];
    const each = (pick) => channels.map((channel) => shown(pick(channel))).join(" / ");
    $("stat-min").textContent = each((channel) => channel.min);
    $("stat-max").textContent = each((channel) => channel.max);
    $("stat-mean").textContent = each((channel) => channel.mean);
    $("stat-saturated").textContent = each((channel) => channel.saturated_fraction * PERCENT) + " %";
    $("focus-score").textContent = shown(stats.focus_score);
    const names = channels.map((channel) => channel.channel).join(", ");
    const step = stats.subsample_step > 1 ? `every ${stats.subsample_step}th pixel each way` : "every pixel";
    $("statistics-detail").textContent = `${stats.bit_depth}-bit, ${names}, ${step}`;
    $("histogram-top").textContent = String(2 ** stats.bit_depth - 1); // the histogram spans every sample value
    this.focus.push(stats.focus_score);
    if (this.focus.length > FOCUS_HISTORY) {
      this.focus.shift();
    }
    $("focus-best").textContent = shown(Math.max(...this.focus)); // the sharpest of the plotted frames
    const panel = $("statistics");
    panel.dataset.frame = String(stats.frame_number ?? "");
    panel.dataset.mean = String(channels.length ? channels[0].mean : "");
    panel.dataset.state = "live";
    this.redraw();
  }

  redraw() {
    if (this.last) {
      drawHistogram($("histogram"), this.last.channels ?? [], $("histogram-log").checked);
    }
    drawHistory($("focus-history"), this.focus, FOCUS_HISTORY);
  }

  /** After a live frame was drawn on `live`: the clipped-pixel overlay, when it is switched on. */
  onLiveFrame(live) {
    if ($("clipped-overlay").checked) {
      $("clipped").dataset.count = String(drawClipped(live, $("clipped")));
    }
  }
}
