import { existsSync } from "node:fs";
import { join } from "node:path";

import { Enum, Root, type Field, type Type } from "protobufjs";

import { CameraGrpcError } from "./camera.errors";
import type { FieldViolation } from "./camera.status-details";

/** ErrorInfo reason of a request refused by this package before it was sent. */
export const INVALID_REQUEST = "INVALID_REQUEST";

const contracts = new Map<string, Root>();

/** camera/v1/camera.proto as protobufjs reflection (camelCase field names, as the loader options), once per root. */
export function contract(protoRoot: string, protoFile: string): Root {
  const key = join(protoRoot, protoFile);
  let root = contracts.get(key);
  if (root === undefined) {
    root = new Root();
    // Files under protoRoot; anything else (google/protobuf/timestamp.proto) from protobufjs's own copies.
    root.resolvePath = (_origin, target) => {
      const candidate = join(protoRoot, target);
      return existsSync(candidate) ? candidate : target;
    };
    root.loadSync(protoFile, { keepCase: false });
    root.resolveAll();
    contracts.set(key, root);
  }
  return root;
}

const SCALAR_KINDS: Record<string, string> = {
  double: "number",
  float: "number",
  int32: "integer",
  uint32: "integer",
  sint32: "integer",
  fixed32: "integer",
  sfixed32: "integer",
  int64: "integer",
  uint64: "integer",
  sint64: "integer",
  fixed64: "integer",
  sfixed64: "integer",
  bool: "boolean",
  string: "string",
  bytes: "bytes",
};

function violation(field: Field, value: unknown, item = false): string | undefined {
  if (field.resolvedType instanceof Enum) {
    const names = Object.keys(field.resolvedType.values);
    if (typeof value === "string" && Object.hasOwn(field.resolvedType.values, value)) {
      return undefined;
    }
    return `must be one of ${names.join(", ")} (the ${field.resolvedType.name} names), not ${JSON.stringify(value)}`;
  }
  if ((field.repeated && !item) || field.map || field.resolvedType !== null) {
    return undefined; // messages are checked field by field, lists item by item; camera.v1 has no maps
  }
  switch (SCALAR_KINDS[field.type]) {
    case "number":
      return typeof value === "number" ? undefined : `must be a number, not ${JSON.stringify(value)}`;
    case "integer":
      return typeof value === "number" && Number.isInteger(value)
        ? undefined
        : `must be an integer, not ${JSON.stringify(value)}`;
    case "boolean":
      return typeof value === "boolean" ? undefined : `must be true or false, not ${JSON.stringify(value)}`;
    case "string":
      return typeof value === "string" ? undefined : `must be a string, not ${JSON.stringify(value)}`;
    case "bytes":
      return value instanceof Uint8Array ? undefined : "must be a Buffer or Uint8Array";
    default:
      return undefined;
  }
}

/**
 * Check a request object against its camera.v1 message before it is sent, since @grpc/proto-loader
 * would silently send the default for an enum given by an unknown name (`format: "png"` instead of
 * `"IMAGE_FORMAT_PNG"`), drop unknown fields (`exposure` instead of `exposureMs`) and convert
 * strings to numbers. Throws an INVALID_ARGUMENT {@link CameraGrpcError} naming each bad field and
 * what it allows. `undefined` and `null` values mean "not set".
 */
export function checkRequest(protoRoot: string, protoFile: string, typeName: string, request: unknown): void {
  if (request === undefined || request === null) {
    return;
  }
  const type: Type = contract(protoRoot, protoFile).lookupType(typeName);
  if (typeof request !== "object" || Array.isArray(request)) {
    throw CameraGrpcError.invalidRequest(
      [{ field: type.name, description: `must be an object, not ${JSON.stringify(request)}` }],
      INVALID_REQUEST,
    );
  }
  const violations = messageViolations(type, request as Record<string, unknown>, "");
  if (violations.length > 0) {
    throw CameraGrpcError.invalidRequest(violations, INVALID_REQUEST);
  }
}

/** The problems of a repeated field's value: an array, each item checked (`gpio[0].mode`, `types[1]`). */
function listViolations(field: Field, value: unknown, path: string): FieldViolation[] {
  if (!Array.isArray(value)) {
    return [{ field: path, description: `must be an array (a list of ${field.resolvedType?.name ?? field.type})` }];
  }
  const nested = field.resolvedType;
  return value.flatMap((item: unknown, index: number): FieldViolation[] => {
    const itemPath = `${path}[${index}]`;
    if (nested !== null && !(nested instanceof Enum)) {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        return [{ field: itemPath, description: `must be an object (a ${nested.name})` }];
      }
      return messageViolations(nested as Type, item as Record<string, unknown>, `${itemPath}.`);
    }
    const problem = violation(field, item, true);
    return problem === undefined ? [] : [{ field: itemPath, description: problem }];
  });
}

/** The problems of one message object and of the messages it holds (named by path: `roi.width`). */
function messageViolations(type: Type, message: Record<string, unknown>, prefix: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  for (const [name, value] of Object.entries(message)) {
    if (value === undefined || value === null) {
      continue;
    }
    const field = Object.hasOwn(type.fields, name) ? type.fields[name] : undefined;
    if (field === undefined) {
      violations.push({
        field: prefix + name,
        description: `is not a field of ${type.name} (its fields: ${Object.keys(type.fields).join(", ")})`,
      });
      continue;
    }
    const nested = field.resolvedType;
    if (field.repeated && !field.map) {
      violations.push(...listViolations(field, value, prefix + name));
      continue;
    }
    if (nested !== null && !(nested instanceof Enum) && !field.repeated && !field.map) {
      if (typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array) {
        violations.push({ field: prefix + name, description: `must be an object (a ${nested.name})` });
      } else {
        violations.push(...messageViolations(nested as Type, value as Record<string, unknown>, `${prefix}${name}.`));
      }
      continue;
    }
    const problem = violation(field, value);
    if (problem !== undefined) {
      violations.push({ field: prefix + name, description: problem });
    }
  }
  return violations;
}
