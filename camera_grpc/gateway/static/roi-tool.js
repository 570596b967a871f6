// Drawing the region of interest on the live image (issue 17): drag with the mouse (or move and resize the box
// with the keyboard), the region snapped to the camera's steps and limits (GET /camera `features` roi.*), then
// applied as PATCH /settings `roi` through the settings panel (which shows what the camera applied).
//
// The live image shows the current region (binned or decimated, maybe flipped), so a point on it is a sensor
// position: offset + fraction of the region (mirrored for a flipped axis).

/** Camera steps one arrow key press moves or resizes the box by (Alt: one step). */
const KEY_STEPS = 8;
/** Smallest drag that counts as a region, CSS pixels (a click is not one). */
const MIN_DRAG_PX = 4;
const PERCENT = 100;
const KEYS_HELP = "arrow keys move it, Shift and arrow keys resize it, Enter applies, Escape cancels";
const AXES = {
  x: { offset: "offset_x", size: "width", flip: "horizontal" },
  y: { offset: "offset_y", size: "height", flip: "vertical" },
};

const $ = (id) => document.getElementById(id);

/** `value` rounded down to a multiple of `step` above `minimum`. */
function floorTo(value, step, minimum) {
  return minimum + Math.floor((value - minimum) / step) * step;
}

/**
 * The region of `want` ({offset_x, offset_y, width, height}, sensor pixels, any numbers) that the camera accepts:
 * offsets and sizes on their steps, sizes within their limits, the region inside the sensor.
 * `features` maps a feature name (roi.width...) to its {minimum, maximum, step}.
 */
export function snapRegion(want, features) {
  const region = {};
  for (const axis of Object.values(AXES)) {
    const size = features.get(`roi.${axis.size}`);
    const offset = features.get(`roi.${axis.offset}`);
    const sensor = size.maximum; // the sensor's extent: the largest size, at offset 0
    const sizeStep = size.step || 1;
    const offsetStep = offset.step || 1;
    let length = Math.round((want[axis.size] - size.minimum) / sizeStep) * sizeStep + size.minimum;
    length = Math.min(Math.max(length, size.minimum), size.maximum);
    let start = floorTo(Math.max(want[axis.offset], offset.minimum), offsetStep, offset.minimum);
    start = Math.min(start, floorTo(Math.min(offset.maximum, sensor - length), offsetStep, offset.minimum));
    region[axis.offset] = Math.max(start, offset.minimum);
    region[axis.size] = length;
  }
  return region;
}

export class RoiTool {
  /**
   * @param {object} options
   * @param {(region: object) => Promise<boolean>} options.apply PATCH the region; true if the camera took it
   */
  constructor({ apply }) {
    this.applyRegion = apply;
    this.features = new Map();
    this.settings = null; // the last settings shown: the region the live image shows
    this.pending = null; // the snapped region drawn and not applied yet
    this.drag = null; // {x, y} where a drag started, fractions of the image
    this.heldBy = ""; // a running recording holds the geometry: its name
    this.layer = $("roi-layer");
    this.box = $("roi-box");
    $("roi-draw").addEventListener("click", () => this.setDrawing(this.layer.hidden));
    $("roi-apply").addEventListener("click", () => this.apply());
    $("roi-cancel").addEventListener("click", () => this.cancel());
    this.layer.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    this.layer.addEventListener("pointermove", (event) => this.onPointerMove(event));
    this.layer.addEventListener("pointerup", (event) => this.onPointerUp(event));
    this.box.addEventListener("keydown", (event) => this.onKey(event));
    window.addEventListener("resize", () => this.place());
  }

  /** The camera's features (GET /camera). */
  setFeatures(features) {
    this.features = new Map(features.map((feature) => [feature.name, feature]));
    const supported = ["roi.offset_x", "roi.offset_y", "roi.width", "roi.height"].every(
      (name) => this.features.get(name)?.supported,
    );
    this.supported = supported;
    this.updateButtons();
  }

  /** A settings snapshot: the region the live image now shows. */
  show(settings) {
    this.settings = settings;
    this.place();
  }

  /** While `recording` (its name) runs, the region cannot change: drawing is off, saying why. */
  setHeldBy(recording) {
    this.heldBy = recording || "";
    if (this.heldBy) {
      this.setDrawing(false);
    }
    this.updateButtons();
  }

  updateButtons() {
    const reason = !this.supported ? "this camera has no region of interest" : this.heldBy ? `held by ${this.heldBy} (recording)` : "";
    for (const id of ["roi-draw", "roi-full", "roi-apply"]) {
      $(id).disabled = Boolean(reason);
      $(id).title = reason;
    }
    $("roi-draw").dataset.reason = reason;
  }

  setDrawing(on) {
    this.layer.hidden = !on;
    $("roi-draw").setAttribute("aria-pressed", String(on));
    if (!on) {
      this.cancel();
    } else if (this.settings) {
      // start from the current region, so the keyboard can move it at once
      this.pending = { ...this.settings.roi };
      this.place();
      this.box.focus();
    }
  }

  cancel() {
    this.pending = null;
    this.drag = null;
    this.place();
  }

  // -- coordinates ---------------------------------------------------------------------------------------------

  /** Fractions (0..1) of the image at a pointer event. */
  fractionAt(event) {
    const rect = this.layer.getBoundingClientRect();
    return {
      x: Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1),
      y: Math.min(Math.max((event.clientY - rect.top) / rect.height, 0), 1),
    };
  }

  /** The sensor region of a box between two image fractions (the shown region, flips undone). */
  regionOf(a, b) {
    const { roi, flip } = this.settings;
    const want = {};
    for (const [name, axis] of Object.entries(AXES)) {
      let low = Math.min(a[name], b[name]);
      let high = Math.max(a[name], b[name]);
      if (flip?.[axis.flip]) {
        [low, high] = [1 - high, 1 - low];
      }
      want[axis.offset] = roi[axis.offset] + low * roi[axis.size];
      want[axis.size] = (high - low) * roi[axis.size];
    }
    return want;
  }

  /** Where a sensor region is on the shown image, fractions {x, y, width, height} (may reach past it). */
  fractionsOf(region) {
    const { roi, flip } = this.settings;
    const out = {};
    for (const [name, axis] of Object.entries(AXES)) {
      let low = (region[axis.offset] - roi[axis.offset]) / roi[axis.size];
      const size = region[axis.size] / roi[axis.size];
      if (flip?.[axis.flip]) {
        low = 1 - low - size;
      }
      out[name] = low;
      out[name === "x" ? "width" : "height"] = size;
    }
    return out;
  }

  /** Draw the pending region's box and its numbers. */
  place() {
    const region = this.pending;
    $("roi-bar").hidden = !region;
    if (!region || !this.settings) {
      this.box.hidden = true;
      return;
    }
    const at = this.fractionsOf(region);
    Object.assign(this.box.style, {
      left: `${at.x * PERCENT}%`,
      top: `${at.y * PERCENT}%`,
      width: `${at.width * PERCENT}%`,
      height: `${at.height * PERCENT}%`,
    });
    this.box.hidden = false;
    const text = `${region.width}\u00d7${region.height} at (${region.offset_x}, ${region.offset_y})`;
    $("roi-info").textContent = `Region ${text}, snapped to the camera's steps`;
    this.box.setAttribute("aria-label", `Region of interest ${text}: ${KEYS_HELP}`);
    this.box.dataset.region = JSON.stringify(region);
  }

  // -- mouse ---------------------------------------------------------------------------------------------------

  onPointerDown(event) {
    if (event.button !== 0 || !this.settings) {
      return;
    }
    this.layer.setPointerCapture(event.pointerId);
    this.drag = { start: this.fractionAt(event), x: event.clientX, y: event.clientY };
    event.preventDefault();
  }

  onPointerMove(event) {
    if (!this.drag) {
      return;
    }
    if (Math.hypot(event.clientX - this.drag.x, event.clientY - this.drag.y) < MIN_DRAG_PX) {
      return;
    }
    this.pending = snapRegion(this.regionOf(this.drag.start, this.fractionAt(event)), this.features);
    this.place();
  }

  onPointerUp(event) {
    if (!this.drag) {
      return;
    }
    this.onPointerMove(event);
    this.drag = null;
    this.box.focus();
  }

  // -- keyboard ------------------------------------------------------------------------------------------------

  onKey(event) {
    const moves = { ArrowLeft: ["x", -1], ArrowRight: ["x", 1], ArrowUp: ["y", -1], ArrowDown: ["y", 1] };
    if (event.key === "Enter") {
      event.preventDefault();
      this.apply();
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      this.setDrawing(false);
      return;
    }
    if (!(event.key in moves) || !this.pending) {
      return;
    }
    event.preventDefault();
    const [name, sign] = moves[event.key];
    const axis = AXES[name];
    const steps = event.altKey ? 1 : KEY_STEPS;
    const region = { ...this.pending };
    if (event.shiftKey) {
      region[axis.size] += sign * steps * (this.features.get(`roi.${axis.size}`).step || 1);
    } else {
      const flipped = this.settings.flip?.[axis.flip] ? -1 : 1; // the box moves the way the arrow points
      region[axis.offset] += flipped * sign * steps * (this.features.get(`roi.${axis.offset}`).step || 1);
    }
    this.pending = snapRegion(region, this.features);
    this.place();
  }

  async apply() {
    if (!this.pending) {
      return;
    }
    if (await this.applyRegion(this.pending)) {
      this.setDrawing(false);
    }
  }
}
