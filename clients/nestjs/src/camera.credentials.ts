import { readFileSync } from "node:fs";
import { isIP } from "node:net";

import { Metadata, credentials as grpcCredentials, type ChannelCredentials } from "@grpc/grpc-js";

/** A PEM input: a file's path, or the PEM bytes themselves. */
export type PemSource = string | Buffer;

/** The transport security and identity options of {@link CameraModuleOptions} (see its README, "TLS and tokens"). */
export interface CameraSecurityOptions {
  /** The service's address (`host:port`): a token goes in plaintext only to a loopback one. */
  url: string;
  /** CA certificate(s) (PEM) that signed the service's certificate: a file path or a Buffer. Makes the channel TLS. */
  ca?: PemSource;
  /** This client's certificate (PEM), for a service that asks for one (mutual TLS). Always with `key`. */
  cert?: PemSource;
  /** The private key (PEM) of `cert`. */
  key?: PemSource;
  /** TLS with Node.js's root certificates (a service whose certificate a public CA signed). */
  tls?: boolean;
  /** Bearer token sent with every call (`authorization: Bearer <token>`). */
  token?: string;
  /** Ready-made channel credentials (`credentials.createSsl(...)`), instead of `ca`/`cert`/`key`/`tls`. */
  credentials?: ChannelCredentials;
}

/** What the module's channel carries: its credentials, and the token to send as metadata when there is no TLS. */
export interface CameraChannelSecurity {
  /** Channel credentials (TLS, with the token as call credentials); undefined: plaintext. */
  credentials?: ChannelCredentials;
  /**
   * Metadata added to every call: the token's `authorization` header on a plaintext channel to a
   * loopback address (@grpc/grpc-js cannot compose call credentials with insecure ones).
   */
  metadata?: Metadata;
  /** Whether the channel is TLS, has a client certificate, sends a token (explains failures). */
  tls: boolean;
  clientCertificate: boolean;
  token: boolean;
}

/** Credentials that cannot work: thrown when the module starts (a missing file, half a key pair, ...). */
export class CameraCredentialsError extends Error {
  override readonly name = "CameraCredentialsError";
}

const PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----";
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
/** A token is visible ASCII without spaces (the service's are URL-safe base64). */
const TOKEN = /^[\x21-\x7e]+$/;

/** The PEM bytes of `source` (a path or the bytes); CameraCredentialsError naming `what` otherwise. */
export function readPem(source: PemSource, what: string): Buffer {
  let data: Buffer;
  let origin: string;
  if (typeof source === "string") {
    origin = `the ${what} file "${source}"`;
    try {
      data = readFileSync(source);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new CameraCredentialsError(`cannot read ${origin}: ${code}`);
    }
  } else if (Buffer.isBuffer(source)) {
    origin = `the ${what} given`;
    data = source;
  } else {
    throw new CameraCredentialsError(`the ${what} must be a file path (string) or PEM bytes (Buffer)`);
  }
  const text = data.toString("latin1");
  if (what.endsWith("key") ? !PEM_PRIVATE_KEY.test(text) : !text.includes(PEM_CERTIFICATE)) {
    const expected = what.endsWith("key") ? "a PEM private key" : "a PEM certificate";
    throw new CameraCredentialsError(`${origin} is not ${expected}`);
  }
  return data;
}

/** `token` without surrounding white space; CameraCredentialsError if it cannot be a token. */
export function checkToken(token: string): string {
  const trimmed = typeof token === "string" ? token.trim() : "";
  if (!trimmed) {
    throw new CameraCredentialsError("the token is empty");
  }
  if (!TOKEN.test(trimmed)) {
    throw new CameraCredentialsError("the token has characters a token cannot have (spaces, control or non-ASCII)");
  }
  return trimmed;
}

/** The hosts of a gRPC target (`host:port`, `[v6]:port`, `dns:///host:port`, `ipv4:a:p,b:p`). */
export function targetHosts(target: string): string[] {
  let rest = target;
  for (const scheme of ["ipv4:", "ipv6:", "dns:"]) {
    if (rest.startsWith(scheme)) {
      rest = rest.slice(scheme.length);
      if (rest.startsWith("//")) {
        rest = rest.slice(2).split("/").slice(1).join("/"); // dns://authority/host:port
      }
      break;
    }
  }
  return rest.split(",").map((address) => {
    const trimmed = address.replace(/^\/+/, "");
    if (trimmed.startsWith("[")) {
      return trimmed.slice(1).split("]")[0];
    }
    const parts = trimmed.split(":");
    return parts.length === 2 ? parts[0] : trimmed; // host:port, or a bare host or IPv6 address
  });
}

/** Whether every address of `target` is on this host: a unix socket, localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackTarget(target: string): boolean {
  if (target.startsWith("unix:") || target.startsWith("unix-abstract:")) {
    return true;
  }
  return targetHosts(target).every((host) => {
    const name = host.toLowerCase().replace(/\.$/, "");
    if (name === "localhost") {
      return true;
    }
    const kind = isIP(name);
    if (kind === 4) {
      return name.startsWith("127.");
    }
    return kind === 6 && /^(0*:)*:?0*1$/.test(name); // ::1, 0:0:0:0:0:0:0:1
  });
}

/**
 * The channel credentials and per-call metadata for the security options (see {@link CameraSecurityOptions}).
 *
 * - `ca`, `cert`/`key` or `tls`: `credentials.createSsl(ca, key, cert)`; a token is then added as call
 *   credentials (`credentials.combineChannelCredentials(ssl, createFromMetadataGenerator(...))`).
 * - A token without TLS: only to a loopback address, as call metadata (plaintext on the wire).
 * Throws CameraCredentialsError for what cannot work.
 */
export function channelSecurity(options: CameraSecurityOptions): CameraChannelSecurity {
  const { ca, cert, key } = options;
  if ((cert === undefined) !== (key === undefined)) {
    const [given, missing] = key === undefined ? ["certificate", "key"] : ["key", "certificate"];
    throw new CameraCredentialsError(`a client ${given} needs its ${missing} too (mutual TLS takes both)`);
  }
  const wantsTls = options.tls === true || ca !== undefined || cert !== undefined;
  if (options.credentials !== undefined && wantsTls) {
    throw new CameraCredentialsError("give either credentials or ca/cert/key/tls, not both");
  }
  let channel = options.credentials;
  if (channel === undefined && wantsTls) {
    channel = grpcCredentials.createSsl(
      ca === undefined ? null : readPem(ca, "CA certificate"),
      key === undefined ? null : readPem(key, "client key"),
      cert === undefined ? null : readPem(cert, "client certificate"),
    );
  }
  const security = { tls: channel !== undefined, clientCertificate: cert !== undefined, token: false };
  if (options.token === undefined) {
    return { ...security, credentials: channel };
  }
  const header = `Bearer ${checkToken(options.token)}`;
  if (channel !== undefined) {
    const bearer = grpcCredentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new Metadata();
      metadata.set("authorization", header);
      callback(null, metadata);
    });
    return { ...security, token: true, credentials: grpcCredentials.combineChannelCredentials(channel, bearer) };
  }
  if (!isLoopbackTarget(options.url)) {
    throw new CameraCredentialsError(
      `a token is sent in plaintext only to this host, and "${options.url}" is not a loopback address: ` +
        "use TLS (ca: the CA certificate of the service)",
    );
  }
  const metadata = new Metadata();
  metadata.set("authorization", header);
  return { ...security, token: true, metadata };
}
