// Errors (rich details, HTTP mapping, the exception filter), Server-Sent Events and reconnects,
// against a stand-in service that can fail on demand and go away and come back on the same port.
import "reflect-metadata";

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import { type ArgumentsHost, type INestApplicationContext, type MessageEvent } from "@nestjs/common";
import { firstValueFrom, of, concat, throwError, toArray } from "rxjs";

import {
  CameraClient,
  CameraGrpcError,
  CameraGrpcExceptionFilter,
  FrameEncoding,
  GENERIC_MESSAGES,
  HTTP_STATUS_BY_GRPC_CODE,
  cameraHttpError,
  toHttpException,
  toSseEvents,
  type CameraSseErrorData,
} from "../dist";
import { SETTINGS, StandIn, richError } from "./support/stand-in";
import { rejection, startApp } from "./support/camera";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("rich error details (grpc-status-details-bin)", () => {
  let failure: ReturnType<typeof richError> = {};
  const standIn = new StandIn({
    getSettings: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(failure),
  });
  let app: INestApplicationContext;
  let camera: CameraClient;

  before(async () => {
    const port = await standIn.start();
    app = await startApp({ url: `127.0.0.1:${port}` });
    camera = app.get(CameraClient);
  });

  after(async () => {
    await app.close();
    standIn.stop();
  });

  test("ErrorInfo reason and domain, BadRequest field violations", async () => {
    failure = richError(status.INVALID_ARGUMENT, "gain_db=99.0 must be between 0 and 24", {
      reason: "INVALID_SETTING",
      violations: [["gain_db", "must be between 0 and 24"]],
    });
    const error = await rejection(camera.getSettings());
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, "gain_db=99.0 must be between 0 and 24");
    assert.equal(error.reason, "INVALID_SETTING");
    assert.equal(error.domain, "camera-grpc");
    assert.equal(error.trusted, true);
    assert.deepEqual(error.fieldViolations, [{ field: "gain_db", description: "must be between 0 and 24" }]);
    const http = cameraHttpError(error);
    assert.equal(http.status, 422);
    assert.deepEqual(http.body, {
      detail: [{ type: "out_of_range", loc: ["body", "gain"], msg: "gain must be between 0 and 24 (dB)" }],
    });
  });

  test("RESOURCE_EXHAUSTED is 507 for STORAGE_FULL and 503 otherwise", async () => {
    failure = richError(status.RESOURCE_EXHAUSTED, "no space left in /captures", { reason: "STORAGE_FULL" });
    const full = toHttpException(await rejection(camera.getSettings()));
    assert.equal(full.getStatus(), 507);
    assert.deepEqual(full.getResponse(), {
      detail: "no space left in /captures",
      code: "RESOURCE_EXHAUSTED",
      reason: "STORAGE_FULL",
    });
    assert.ok(full.cause instanceof CameraGrpcError);
    failure = richError(status.RESOURCE_EXHAUSTED, "too many streams (64)", { reason: "TOO_MANY_SUBSCRIBERS" });
    const busy = cameraHttpError(await rejection(camera.getSettings()));
    assert.equal(busy.status, 503);
    assert.deepEqual(busy.headers, { "Retry-After": "1" });
  });

  test("a message without ErrorInfo of the camera-grpc domain is replaced by a generic one", async () => {
    failure = richError(status.UNAVAILABLE, "connect ECONNREFUSED 10.0.0.7:50051", { reason: "X", domain: "elsewhere" });
    const foreign = await rejection(camera.getSettings());
    assert.equal(foreign.details, GENERIC_MESSAGES[503]);
    assert.equal(foreign.reason, "X");
    assert.equal(foreign.domain, "elsewhere");
    assert.equal(foreign.trusted, false);
    assert.deepEqual(cameraHttpError(foreign).body, { detail: GENERIC_MESSAGES[503], code: "UNAVAILABLE", reason: null });
    assert.match(String((foreign.cause as { details?: string }).details), /ECONNREFUSED/);

    // Details that contradict the call's status are ignored (as grpcio-status does).
    failure = richError(status.NOT_FOUND, "no such capture", { reason: "NOT_FOUND", statusCode: status.INTERNAL });
    const contradicting = await rejection(camera.getSettings());
    assert.equal(contradicting.reason, undefined);
    assert.equal(contradicting.details, GENERIC_MESSAGES[404]);
  });

  test("an INTERNAL error is a 500 with a generic body even when the service vouched for it", async () => {
    failure = richError(status.INTERNAL, "PxLGetNextFrame failed: -2", { reason: "CAMERA_SDK" });
    const error = await rejection(camera.getSettings());
    assert.equal(error.details, "PxLGetNextFrame failed: -2");
    assert.deepEqual(cameraHttpError(error).body, { detail: GENERIC_MESSAGES[500], code: "INTERNAL", reason: null });
  });
});

describe("HTTP mapping", () => {
  test("every gRPC code has the REST gateway's status", () => {
    const expected: Record<number, number> = {
      [status.OK]: 500,
      [status.CANCELLED]: 503,
      [status.UNKNOWN]: 500,
      [status.INVALID_ARGUMENT]: 422,
      [status.DEADLINE_EXCEEDED]: 504,
      [status.NOT_FOUND]: 404,
      [status.ALREADY_EXISTS]: 409,
      [status.PERMISSION_DENIED]: 403,
      [status.RESOURCE_EXHAUSTED]: 503,
      [status.FAILED_PRECONDITION]: 503,
      [status.ABORTED]: 409,
      [status.OUT_OF_RANGE]: 422,
      [status.UNIMPLEMENTED]: 501,
      [status.INTERNAL]: 500,
      [status.UNAVAILABLE]: 503,
      [status.DATA_LOSS]: 500,
      [status.UNAUTHENTICATED]: 401,
    };
    for (const [code, httpStatus] of Object.entries(expected)) {
      const error = new CameraGrpcError(Number(code), "x");
      assert.equal(toHttpException(error).getStatus(), httpStatus, `gRPC code ${code}`);
    }
    assert.equal(Object.keys(HTTP_STATUS_BY_GRPC_CODE).length, 13);
  });

  test("anything that is not a gRPC error is a 500 with a generic body", () => {
    const exception = toHttpException(new TypeError("x is undefined"));
    assert.equal(exception.getStatus(), 500);
    assert.deepEqual(exception.getResponse(), { detail: GENERIC_MESSAGES[500], code: "UNKNOWN", reason: null });
  });
});

/** An ArgumentsHost and response for an HTTP request, with a recording HttpAdapter. */
function httpHost(method: string) {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const response = {};
  const host = {
    getType: () => "http",
    switchToHttp: () => ({ getRequest: () => ({ method, url: "/settings" }), getResponse: () => response }),
  } as unknown as ArgumentsHost;
  const adapter = {
    isHeadersSent: () => false,
    end: () => undefined,
    setHeader: (_response: unknown, name: string, value: string) => {
      sent.headers[name] = value;
    },
    reply: (_response: unknown, body: unknown, statusCode: number) => {
      sent.status = statusCode;
      sent.body = body;
    },
  };
  return { host, adapterHost: { httpAdapter: adapter } as never, sent };
}

describe("CameraGrpcExceptionFilter", () => {
  test("answers with the gateway's status, body and Retry-After", () => {
    const { host, adapterHost, sent } = httpHost("GET");
    new CameraGrpcExceptionFilter(adapterHost).catch(new CameraGrpcError(status.UNAVAILABLE, "the camera service is unavailable; retry later"), host);
    assert.equal(sent.status, 503);
    assert.deepEqual(sent.headers, { "Retry-After": "1" });
    assert.deepEqual(sent.body, { detail: GENERIC_MESSAGES[503], code: "UNAVAILABLE", reason: null });
  });

  test("names the fields of a 422 in the body for PUT and in the query for GET", () => {
    const error = CameraGrpcError.invalidRequest([{ field: "format", description: "must be one of A, B" }], "INVALID_REQUEST");
    const put = httpHost("PUT");
    new CameraGrpcExceptionFilter(put.adapterHost).catch(error, put.host);
    assert.equal(put.sent.status, 422);
    assert.deepEqual(put.sent.body, { detail: [{ type: "value_error", loc: ["body", "format"], msg: "format must be one of A, B" }] });
    const get = httpHost("GET");
    new CameraGrpcExceptionFilter(get.adapterHost).catch(error, get.host);
    assert.deepEqual((get.sent.body as { detail: Array<{ loc: string[] }> }).detail[0].loc, ["query", "format"]);
  });

  test("works without the adapter host on an Express-like response", () => {
    const calls: string[] = [];
    const response = {
      setHeader: (name: string, value: string) => calls.push(`header ${name}=${value}`),
      status(code: number) {
        calls.push(`status ${code}`);
        return this;
      },
      json: (body: unknown) => calls.push(`json ${JSON.stringify(body)}`),
    };
    const host = {
      getType: () => "http",
      switchToHttp: () => ({ getRequest: () => ({ method: "POST" }), getResponse: () => response }),
    } as unknown as ArgumentsHost;
    new CameraGrpcExceptionFilter().catch(new CameraGrpcError(status.DEADLINE_EXCEEDED, "x"), host);
    assert.deepEqual(calls, ["status 504", `json ${JSON.stringify({ detail: GENERIC_MESSAGES[504], code: "DEADLINE_EXCEEDED", reason: null })}`]);
  });

  test("leaves other contexts alone", () => {
    const host = { getType: () => "rpc" } as unknown as ArgumentsHost;
    const error = new CameraGrpcError(status.UNAVAILABLE, "x");
    assert.throws(() => new CameraGrpcExceptionFilter().catch(error, host), (thrown: unknown) => thrown === error);
  });
});

describe("toSseEvents", () => {
  test("values become events; an error becomes one last `error` event, then the stream completes", async () => {
    const source = concat(of(1, 2), throwError(() => new CameraGrpcError(status.UNAVAILABLE, "camera is not connected", { reason: "CAMERA_UNAVAILABLE", domain: "camera-grpc" })));
    const events = await firstValueFrom(source.pipe(toSseEvents((value) => ({ n: value })), toArray()));
    assert.deepEqual(events, [
      { data: { n: 1 } },
      { data: { n: 2 } },
      {
        type: "error",
        data: { status: 503, detail: "camera is not connected", code: "UNAVAILABLE", reason: "CAMERA_UNAVAILABLE" },
      },
    ]);
  });

  test("a stream whose service goes away ends with a 503 error event", async () => {
    let streams = 0;
    const standIn = new StandIn({
      frames: (call: ServerWritableStream<unknown, unknown>) => {
        streams += 1;
        const timer = setInterval(() => {
          call.write({ frameNumber: 1, sequenceNumber: 1, data: Buffer.from([1, 2, 3]), capturedAt: { seconds: 1_700_000_000, nanos: 5_000_000 } });
        }, 20);
        call.on("cancelled", () => clearInterval(timer));
        call.on("close", () => clearInterval(timer));
      },
    });
    const port = await standIn.start();
    const app = await startApp({ url: `127.0.0.1:${port}` });
    try {
      const camera = app.get(CameraClient);
      const events: MessageEvent[] = [];
      const done = new Promise<void>((resolve, reject) =>
        camera
          .frames({ encoding: FrameEncoding.FRAME_ENCODING_JPEG })
          .pipe(toSseEvents((frame) => ({ frameNumber: frame.frameNumber, capturedAt: frame.capturedAt, bytes: frame.data.length })))
          .subscribe({
            next: (event) => {
              events.push(event);
              if (events.length === 3) {
                standIn.stop();
              }
            },
            error: reject,
            complete: resolve,
          }),
      );
      await done;
      assert.equal(streams, 1);
      const last = events.at(-1) as MessageEvent;
      assert.equal(last.type, "error");
      const data = last.data as CameraSseErrorData;
      assert.equal(data.status, 503, JSON.stringify(data));
      assert.deepEqual(events[0].data, { frameNumber: 1, capturedAt: new Date(1_700_000_000_005), bytes: 3 });
    } finally {
      await app.close();
      standIn.stop();
    }
  });
});

describe("reconnects", () => {
  test("a service that stops and comes back on the same port is used again within about a second", async () => {
    const standIn = new StandIn({
      getSettings: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(null, SETTINGS),
    });
    const port = await standIn.start();
    const app = await startApp({ url: `127.0.0.1:${port}` });
    try {
      const camera = app.get(CameraClient);
      assert.equal((await camera.getSettings()).connected, true);
      standIn.stop();
      // While it is down (long enough for the default backoff of @grpc/grpc-js to reach 2.6 s),
      // calls fail at once with UNAVAILABLE.
      const downUntil = Date.now() + 4_000;
      while (Date.now() < downUntil) {
        const started = Date.now();
        const error = await rejection(camera.getSettings());
        assert.equal(error.code, status.UNAVAILABLE);
        assert.ok(Date.now() - started < 2_000, `UNAVAILABLE took ${Date.now() - started} ms`);
        await sleep(200);
      }
      await standIn.start(port);
      const restarted = Date.now();
      const deadline = restarted + 10_000;
      for (;;) {
        try {
          await camera.getSettings({ deadlineMs: 1_000 });
          break;
        } catch (error) {
          assert.ok(Date.now() < deadline, `not reconnected after 10 s: ${String(error)}`);
          await sleep(50);
        }
      }
      const recoveredMs = Date.now() - restarted;
      console.log(`# reconnected ${recoveredMs} ms after the service came back`);
      assert.ok(recoveredMs < 3_000, `reconnected after ${recoveredMs} ms`);
    } finally {
      await app.close();
      standIn.stop();
    }
  });
});
