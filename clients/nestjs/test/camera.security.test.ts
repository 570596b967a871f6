// TLS, mutual TLS and tokens. The checks of the options need nothing; the rest runs against real camera
// services that tests/test_nestjs_client.py starts with tokens on, and describes in the environment:
//   CAMERA_TEST_TLS_URL     TLS (its certificate issued by $CAMERA_TEST_PKI/ca.pem for 127.0.0.1) and tokens
//   CAMERA_TEST_MTLS_URL    the same, and a client certificate required (mutual TLS)
//   CAMERA_TEST_TOKEN_URL   plaintext on 127.0.0.1, tokens
//   CAMERA_TEST_PKI         ca.pem, client.pem, client-key.pem, other-ca.pem (a CA that signed nothing here)
//   CAMERA_TEST_OPERATOR_TOKEN, CAMERA_TEST_VIEWER_TOKEN
// Without them those tests are skipped (and the Python test that runs this suite fails on a skipped test).
import "reflect-metadata";

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

import { Metadata, credentials, status, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { Module, type INestApplicationContext } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { firstValueFrom, lastValueFrom, take, toArray } from "rxjs";

import {
  CameraClient,
  CameraCredentialsError,
  CameraGrpcError,
  CameraModule,
  FrameEncoding,
  ImageFormat,
  RecordingState,
  StorageBackend,
  cameraHttpError,
  channelSecurity,
  isLoopbackTarget,
  securityHint,
  type CameraModuleOptions,
} from "../dist";
import { SETTINGS, StandIn } from "./support/stand-in";

const env = process.env;
const pki = env.CAMERA_TEST_PKI ?? "";
const services = Boolean(
  env.CAMERA_TEST_TLS_URL && env.CAMERA_TEST_MTLS_URL && env.CAMERA_TEST_TOKEN_URL && pki && env.CAMERA_TEST_OPERATOR_TOKEN,
);
const skip = services ? false : "CAMERA_TEST_* not set: run by tests/test_nestjs_client.py, which starts the services";

function pem(name: string): string {
  return join(pki, name);
}

async function start(options: CameraModuleOptions): Promise<INestApplicationContext> {
  @Module({ imports: [CameraModule.register(options)] })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

/** Run `use` with a CameraClient of a module registered with `options`; the app is closed afterwards. */
async function withCamera<T>(options: CameraModuleOptions, use: (camera: CameraClient) => Promise<T>): Promise<T> {
  const app = await start(options);
  try {
    return await use(app.get(CameraClient));
  } finally {
    await app.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<CameraGrpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CameraGrpcError, `not a CameraGrpcError: ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded");
}

/** Every byte of a download. */
async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function libraryText(error: CameraGrpcError): string {
  return String((error.cause as { details?: string } | undefined)?.details);
}

describe("TLS and token options", () => {
  test("a loopback target is one whose every address is on this host", () => {
    for (const target of ["127.0.0.1:50051", "127.9.0.1:1", "localhost:1", "LOCALHOST.:1", "[::1]:1", "ipv4:127.0.0.1:1,127.0.0.2:1", "dns:///localhost:1", "unix:/run/camera.sock"]) {
      assert.equal(isLoopbackTarget(target), true, target);
    }
    for (const target of ["10.0.0.5:1", "camera.lab:1", "localhost.evil.example:1", "[2001:db8::1]:1", "ipv4:127.0.0.1:1,10.0.0.5:1", "0.0.0.0:1"]) {
      assert.equal(isLoopbackTarget(target), false, target);
    }
  });

  test("credentials that cannot work are refused when the module starts, naming the problem", async () => {
    const folder = mkdtempSync(join(tmpdir(), "camera-credentials-"));
    const notPem = join(folder, "not.pem");
    writeFileSync(notPem, "hello");
    const refusals: Array<[CameraModuleOptions, RegExp]> = [
      [{ url: "camera.lab:50051", token: "secret" }, /"camera\.lab:50051" is not a loopback address: use TLS/],
      [{ url: "127.0.0.1:1", ca: join(folder, "missing.pem") }, /cannot read the CA certificate file ".*missing\.pem": ENOENT/],
      [{ url: "127.0.0.1:1", ca: notPem }, /the CA certificate file ".*not\.pem" is not a PEM certificate/],
      [{ url: "127.0.0.1:1", ca: Buffer.from("hello") }, /the CA certificate given is not a PEM certificate/],
      [{ url: "127.0.0.1:1", tls: true, cert: notPem }, /a client certificate needs its key too/],
      [{ url: "127.0.0.1:1", tls: true, key: notPem }, /a client key needs its certificate too/],
      [{ url: "127.0.0.1:1", tls: true, credentials: credentials.createSsl() }, /either credentials or ca/],
      [{ url: "127.0.0.1:1", token: "two words" }, /characters a token cannot have/],
      [{ url: "127.0.0.1:1", token: " " }, /the token is empty/],
    ];
    for (const [options, expected] of refusals) {
      assert.throws(() => channelSecurity(options), (error: unknown) => error instanceof CameraCredentialsError && expected.test(error.message));
      await assert.rejects(start(options), expected, "the module does not start");
    }
    // A token without TLS to this host: call metadata (grpc-js cannot compose call credentials with insecure ones).
    const plaintext = channelSecurity({ url: "localhost:1", token: "  secret\n" });
    assert.equal(plaintext.credentials, undefined);
    assert.deepEqual(plaintext.metadata?.get("authorization"), ["Bearer secret"]);
    assert.deepEqual([plaintext.tls, plaintext.token], [false, true]);
    const system = channelSecurity({ url: "camera.lab:1", tls: true, token: "secret" });
    assert.ok(system.credentials?._isSecure() && system.metadata === undefined);
  });

  test("failures of TLS and tokens get a hint saying what the client presented", () => {
    const presented = { tls: true, clientCertificate: false, token: true };
    assert.match(securityHint(status.UNAUTHENTICATED, "", { ...presented, token: false }), /no token was sent/);
    assert.match(securityHint(status.UNAUTHENTICATED, "", presented), /did not accept the token/);
    assert.match(securityHint(status.PERMISSION_DENIED, "", presented), /role does not allow/);
    assert.match(securityHint(status.UNAVAILABLE, "Error: self-signed certificate in certificate chain", presented), /not signed by the CA given/);
    assert.match(securityHint(status.UNAVAILABLE, "Error: certificate has expired", presented), /has expired/);
    assert.match(securityHint(status.UNAVAILABLE, "ssl3_read_bytes:tlsv13 alert certificate required", presented), /give cert and key/);
    assert.match(securityHint(status.UNAVAILABLE, "ssl3_get_record:wrong version number", presented), /does it serve TLS/);
    assert.match(securityHint(status.UNAVAILABLE, "Failed to connect", { ...presented, tls: false }), /give its CA certificate/);
    assert.equal(securityHint(status.UNAVAILABLE, "connect ECONNREFUSED 127.0.0.1:1", presented), "");
    assert.equal(securityHint(status.INVALID_ARGUMENT, "exposure_ms", presented), "");
  });

  test("without TLS, the token goes to a loopback service as metadata of every call (a call's own wins)", async () => {
    const seen: string[][] = [];
    const standIn = new StandIn({
      getSettings: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        seen.push(call.metadata.get("authorization").map(String));
        callback(null, SETTINGS);
      },
    });
    const port = await standIn.start();
    try {
      await withCamera({ url: `127.0.0.1:${port}`, token: "secret" }, async (camera) => {
        await camera.getSettings();
        const own = new Metadata();
        own.set("authorization", "Bearer other");
        await camera.getSettings({ metadata: own });
        assert.deepEqual(own.get("authorization"), ["Bearer other"], "the caller's metadata is not changed");
        await camera.getSettings();
      });
      await withCamera({ url: `127.0.0.1:${port}` }, (camera) => camera.getSettings());
    } finally {
      standIn.stop();
    }
    assert.deepEqual(seen, [["Bearer secret"], ["Bearer other"], ["Bearer secret"], []]);
  });
});

describe("against real services with TLS and tokens", { skip }, () => {
  const tls = (): CameraModuleOptions => ({ url: env.CAMERA_TEST_TLS_URL as string, ca: pem("ca.pem") });
  const operator = env.CAMERA_TEST_OPERATOR_TOKEN as string;
  const viewer = env.CAMERA_TEST_VIEWER_TOKEN as string;

  test("TLS and a token through registerAsync (settings as from ConfigService): every kind of call", async () => {
    const CONFIG = Symbol("CONFIG");
    const settings: Record<string, string> = {
      CAMERA_GRPC_URL: env.CAMERA_TEST_TLS_URL as string,
      CAMERA_GRPC_CA: pem("ca.pem"),
      CAMERA_GRPC_TOKEN: operator,
    };
    @Module({ providers: [{ provide: CONFIG, useValue: { get: (name: string) => settings[name] } }], exports: [CONFIG] })
    class ConfigModule {}
    @Module({
      imports: [
        CameraModule.registerAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { get(name: string): string | undefined }) => ({
            url: config.get("CAMERA_GRPC_URL") as string,
            ca: config.get("CAMERA_GRPC_CA"),
            token: config.get("CAMERA_GRPC_TOKEN"),
          }),
        }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    try {
      const camera = app.get(CameraClient);
      assert.equal((await camera.getSettings()).connected, true);
      const saved = await camera.capture({ exposureMs: 2, format: ImageFormat.IMAGE_FORMAT_PNG, includeImageData: true });
      assert.ok(saved.imageData?.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47])));
      assert.equal((await camera.getCapture(saved.filename)).data.length, saved.sizeBytes);
      const frames = await firstValueFrom(
        camera.frames({ encoding: FrameEncoding.FRAME_ENCODING_JPEG, maxWidth: 64 }).pipe(take(3), toArray()),
      );
      assert.deepEqual(frames.map((frame) => frame.sequenceNumber), [1, 2, 3]);
    } finally {
      await app.close();
    }
  });

  test("PEM given as Buffers works the same; a viewer's token may read but not capture", async () => {
    await withCamera({ ...tls(), ca: readFileSync(pem("ca.pem")), token: viewer }, async (camera) => {
      assert.equal((await camera.getCameraInfo()).connected, true);
      const refused = await failure(camera.capture({ exposureMs: 2 }));
      assert.equal(refused.code, status.PERMISSION_DENIED);
      assert.match(refused.message, /^PERMISSION_DENIED: .*; the token's role does not allow this call$/);
    });
  });

  test("no token, or a wrong one: UNAUTHENTICATED, saying which", async () => {
    const missing = await withCamera(tls(), (camera) => failure(camera.getSettings()));
    assert.equal(missing.code, status.UNAUTHENTICATED);
    assert.match(missing.message, /no token was sent, and the service requires one/);
    const streamed = await withCamera(tls(), (camera) => failure(firstValueFrom(camera.frames({ maxWidth: 64 }))));
    assert.equal(streamed.code, status.UNAUTHENTICATED);
    const wrong = await withCamera({ ...tls(), token: "not-a-token" }, (camera) => failure(camera.getSettings()));
    assert.equal(wrong.code, status.UNAUTHENTICATED);
    assert.match(wrong.message, /did not accept the token/);
  });

  test("a CA that did not sign the service's certificate: UNAVAILABLE at once, saying so", async () => {
    const started = Date.now();
    const error = await withCamera({ ...tls(), ca: pem("other-ca.pem"), token: operator }, (camera) =>
      failure(camera.getSettings()),
    );
    assert.ok(Date.now() - started < 5_000, "fails at once, not at the deadline");
    assert.equal(error.code, status.UNAVAILABLE);
    assert.match(error.message, /the service's certificate is not signed by the CA given/);
    assert.match(libraryText(error), /certificate/);
    assert.equal(error.details, "the camera service is unavailable; retry later", "no library text in details");
  });

  test("mutual TLS: a client certificate of the service's CA is accepted; without one, the hint says to give it", async () => {
    const mutual: CameraModuleOptions = { url: env.CAMERA_TEST_MTLS_URL as string, ca: pem("ca.pem"), token: operator };
    const settings = await withCamera({ ...mutual, cert: pem("client.pem"), key: pem("client-key.pem") }, (camera) =>
      camera.getSettings(),
    );
    assert.equal(settings.connected, true);
    const refused = await withCamera(mutual, (camera) => failure(camera.getSettings()));
    assert.equal(refused.code, status.UNAVAILABLE);
    assert.match(refused.message, /client certificate/);
  });

  test("recordings and storage with tokens: an operator records, a viewer watches and downloads but may not record", async () => {
    // The download is a call of its own (@grpc/grpc-js's stream, for backpressure): the token rides on it too,
    // as call credentials over TLS and as metadata in plaintext to this host.
    const plaintext = (): CameraModuleOptions => ({ url: env.CAMERA_TEST_TOKEN_URL as string });
    for (const [where, options] of [["TLS", tls], ["plaintext", plaintext]] as const) {
      const recording = await withCamera({ ...options(), token: operator }, async (camera) => {
        const started = await camera.startRecording({ maxFrames: 2 });
        return lastValueFrom(camera.watchRecording(started.name));
      });
      assert.equal(recording.state, RecordingState.RECORDING_STATE_COMPLETED, where);
      const file = recording.files.find((entry) => entry.name.endsWith(".ome.tif"));
      assert.ok(file !== undefined, where);
      const downloaded = await withCamera({ ...options(), token: viewer }, async (camera) => {
        assert.equal((await camera.getStorageStatus()).backend, StorageBackend.STORAGE_BACKEND_LOCAL);
        const refused = await failure(camera.startRecording({ maxFrames: 1 }));
        assert.equal(refused.code, status.PERMISSION_DENIED, where);
        assert.equal(cameraHttpError(refused).status, 403);
        assert.equal((await failure(camera.deleteRecording(recording.name))).code, status.PERMISSION_DENIED);
        return collect(camera.downloadRecordingFile(recording.name, file.name));
      });
      assert.equal(downloaded.length, file.sizeBytes, where);
      const unauthenticated = await withCamera(options(), (camera) =>
        failure(collect(camera.downloadRecordingFile(recording.name, file.name))),
      );
      assert.equal(unauthenticated.code, status.UNAUTHENTICATED, where);
    }
  });

  test("without TLS, a token to a service on this host: accepted; none: UNAUTHENTICATED", async () => {
    const url = env.CAMERA_TEST_TOKEN_URL as string;
    assert.equal((await withCamera({ url, token: operator }, (camera) => camera.getSettings())).connected, true);
    const missing = await withCamera({ url }, (camera) => failure(camera.getSettings()));
    assert.equal(missing.code, status.UNAUTHENTICATED);
    assert.match(missing.message, /no token was sent/);
  });
});
