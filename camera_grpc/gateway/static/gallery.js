// The capture gallery of the viewer page (issue 17): the recent captures (GET /captures, newest first, a page at a
// time) with a thumbnail each (GET /captures/{filename}/thumbnail?max_width=, made and cached by the service: never
// the full image), their metadata, a download link (GET /captures/{filename}, with the token when there is one) and
// a Delete button (DELETE /captures/{filename}, after a confirmation; the item leaves the gallery once it is gone).

/** Captures per page of the gallery. */
const PAGE_SIZE = 12;
/** Width of a thumbnail, pixels. */
const THUMBNAIL_WIDTH = 160;
const BYTES_PER_KIB = 1024;
/** Height of a thumbnail canvas before its image arrives, as a fraction of its width. */
const PLACEHOLDER_ASPECT = 3 / 4;

const $ = (id) => document.getElementById(id);

export function captureUrl(filename) {
  return `captures/${encodeURIComponent(filename)}`;
}

export function thumbnailUrl(filename, width = THUMBNAIL_WIDTH) {
  return `${captureUrl(filename)}/thumbnail?max_width=${width}`;
}

/** One line of a capture's metadata: "2448×2048 mono8 jpeg, 312 KiB, 30 ms, 0 dB, frame 12". */
export function captureDetails(capture) {
  const parts = [];
  if (capture.width && capture.height) {
    parts.push(`${capture.width}\u00d7${capture.height} ${capture.pixel_format ?? ""} ${capture.format ?? ""}`.trim());
  }
  if (capture.size_bytes !== undefined) {
    parts.push(`${(capture.size_bytes / BYTES_PER_KIB).toFixed(0)} KiB`);
  }
  if (capture.exposure !== undefined) {
    parts.push(`${capture.exposure} ms`);
  }
  if (capture.gain !== undefined) {
    parts.push(`${capture.gain} dB`);
  }
  if (capture.frame_number) {
    parts.push(`frame ${capture.frame_number}`);
  }
  return parts.join(", ");
}

export class CaptureGallery {
  /**
   * @param {object} options
   * @param {(method: string, path: string, body?: object, headers?: object) => Promise<any>} options.api
   * @param {(path: string, options?: object) => Promise<Response>} options.fetchWithToken
   * @param {(canvas: HTMLCanvasElement, blob: Blob, width?: number) => Promise<boolean>} options.drawImage
   */
  constructor({ api, fetchWithToken, drawImage }) {
    this.api = api;
    this.fetchWithToken = fetchWithToken;
    this.drawImage = drawImage;
    this.nextPage = "";
    this.thumbnails = new Map(); // filename -> its drawn canvas (a capture never changes)
    $("gallery-more").addEventListener("click", () => this.load(this.nextPage));
    $("gallery").addEventListener("click", (event) => {
      const remove = event.target.closest("button[data-delete]");
      if (remove) {
        this.remove(remove.dataset.delete);
      }
    });
  }

  /** The first page (again), or the page after `pageToken`, appended. */
  async load(pageToken = "") {
    try {
      const params = new URLSearchParams({ page_size: String(PAGE_SIZE) });
      if (pageToken) {
        params.set("page_token", pageToken);
      }
      const page = await this.api("GET", `captures?${params}`);
      const items = page.captures.map((capture) => this.item(capture));
      if (pageToken) {
        $("gallery").append(...items);
      } else {
        $("gallery").replaceChildren(...items);
      }
      this.nextPage = page.next_page_token ?? "";
      $("gallery-more").hidden = !this.nextPage;
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say(error.message, true);
      }
    }
  }

  item(capture) {
    const item = document.createElement("li");
    item.dataset.filename = capture.filename;
    const link = document.createElement("a");
    link.href = captureUrl(capture.filename);
    link.dataset.filename = capture.filename;
    link.target = "_blank";
    link.rel = "noopener";
    link.setAttribute("aria-label", `Open ${capture.filename}`);
    link.append(this.thumbnail(capture.filename));
    const caption = document.createElement("div");
    caption.className = "caption";
    const name = document.createElement("a");
    name.href = captureUrl(capture.filename);
    name.dataset.filename = capture.filename;
    name.download = capture.filename;
    name.textContent = capture.filename;
    name.className = "name";
    const details = document.createElement("span");
    details.className = "muted";
    details.textContent = captureDetails(capture);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary small";
    remove.textContent = "Delete";
    remove.dataset.delete = capture.filename;
    remove.setAttribute("aria-label", `Delete ${capture.filename}`);
    caption.append(name, details, remove);
    item.append(link, caption);
    return item;
  }

  /** Delete a capture once the user confirms; its item leaves the gallery (the next page's token stays right: it
   * names the position after a page's last capture, whether that capture still exists or not). */
  async remove(filename) {
    if (!window.confirm(`Delete ${filename} and its metadata?`)) {
      return;
    }
    try {
      await this.api("DELETE", captureUrl(filename));
      this.thumbnails.delete(filename);
      for (const item of $("gallery").querySelectorAll("li")) {
        if (item.dataset.filename === filename) {
          item.remove();
        }
      }
      this.say(`${filename} deleted`, false);
    } catch (error) {
      if (error.name !== "Unauthorized") {
        this.say(error.message, true);
      }
    }
  }

  /** A canvas with the capture's thumbnail, fetched once (with the token). */
  thumbnail(filename) {
    const cached = this.thumbnails.get(filename);
    if (cached) {
      return cached;
    }
    const canvas = document.createElement("canvas");
    canvas.className = "thumb";
    canvas.width = THUMBNAIL_WIDTH;
    canvas.height = THUMBNAIL_WIDTH * PLACEHOLDER_ASPECT;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `Thumbnail of ${filename}`);
    canvas.dataset.loaded = "false";
    this.thumbnails.set(filename, canvas);
    this.drawThumbnail(canvas, filename);
    return canvas;
  }

  async drawThumbnail(canvas, filename) {
    try {
      const response = await this.fetchWithToken(thumbnailUrl(filename));
      if (response.ok && (await this.drawImage(canvas, await response.blob()))) {
        canvas.dataset.loaded = "true";
      } else {
        canvas.dataset.loaded = `HTTP ${response.status}`;
        canvas.title = "no thumbnail";
      }
    } catch {
      this.thumbnails.delete(filename); // try again next time
    }
  }

  say(text, isError) {
    $("gallery-message").textContent = text;
    $("gallery-message").classList.toggle("error", Boolean(isError));
  }
}
