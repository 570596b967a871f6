// Following a Server-Sent Events stream of the gateway (GET /settings/events, GET /events) with fetch(), since
// an EventSource cannot send the token: the text/event-stream is parsed here, and the stream is opened again
// RETRY_MS after it ends (the camera service restarting, a proxy closing it), until stop().

const RETRY_MS = 2000;

/** One text/event-stream block as `{event, id, data}` (`event` "message" unless named; comments skipped). */
export function parseEventBlock(block) {
  const parsed = { event: "message", id: null, data: [] };
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      continue; // keep-alive comment
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "event") {
      parsed.event = value;
    } else if (name === "id") {
      parsed.id = value;
    } else if (name === "data") {
      parsed.data.push(value);
    }
  }
  return { ...parsed, data: parsed.data.join("\n") };
}

export class EventStreamFollower {
  /**
   * @param {(path: string, options?: object) => Promise<Response>} fetchWithToken
   * @param {string} path the stream's path, relative to the page
   * @param {(event: {event: string, id: string | null, data: string}) => void} onEvent called per event with data
   * @param {(connected: boolean) => void} [onState] told when the stream opens (true) or ends (false)
   * @param {(error: Error) => boolean} [onError] told why the stream could not open or failed (`error.status`: the
   *   HTTP status of a refusal); returns whether to open it again after RETRY_MS
   */
  constructor(fetchWithToken, path, onEvent, onState = () => {}, onError = () => true) {
    this.fetchWithToken = fetchWithToken;
    this.path = path;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onError = onError;
    this.controller = null; // AbortController of the open stream
    this.retry = null;
  }

  /** Follow the stream until stop(); opened again after it ends. */
  start() {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    this.read(controller.signal).then(
      () => this.onEnd(controller),
      (error) => this.onEnd(controller, error),
    );
  }

  stop() {
    clearTimeout(this.retry);
    if (this.controller) {
      this.controller.abort();
      this.controller = null;
    }
  }

  onEnd(controller, error) {
    if (controller.signal.aborted || this.controller !== controller || error?.name === "Unauthorized") {
      return;
    }
    this.controller = null;
    this.onState(false);
    if (error && !this.onError(error)) {
      return;
    }
    this.retry = setTimeout(() => this.start(), RETRY_MS);
  }

  async read(signal) {
    const response = await this.fetchWithToken(this.path, {
      headers: { Accept: "text/event-stream" },
      signal,
      cache: "no-store",
    });
    if (!response.ok || !response.body) {
      const error = new Error(`${this.path}: HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    this.onState(true);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || signal.aborted) {
          return;
        }
        buffer += value.replaceAll("\r\n", "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const parsed = parseEventBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (parsed.data) {
            this.onEvent(parsed);
          }
        }
      }
    } finally {
      reader.cancel().catch(() => null);
    }
  }
}
