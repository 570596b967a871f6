// Prints the HTTP response the package gives for failed calls, for comparison with the REST gateway
// (tests/test_nestjs_client.py feeds the same cases to camera_grpc's rpc_error_response).
//   node scripts/http-errors.mjs [PACKAGE_DIR] < cases.json > responses.json
// A case: { code, message, reason, domain, violations: [[field, description], ...], location, conditional }.
// A response: { status, body, retryAfter }.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
const { CameraGrpcError, cameraHttpError } = createRequire(join(packageDir, "package.json"))("./dist");

const cases = JSON.parse(readFileSync(0, "utf8"));
const responses = cases.map((item) => {
  const error = new CameraGrpcError(item.code, item.message, {
    reason: item.reason ?? undefined,
    domain: item.domain ?? undefined,
    fieldViolations: (item.violations ?? []).map(([field, description]) => ({ field, description })),
  });
  const { status, body, headers } = cameraHttpError(error, {
    location: item.location,
    conditional: item.conditional ?? false,
  });
  return { status, body, retryAfter: headers["Retry-After"] ?? null };
});
process.stdout.write(JSON.stringify(responses));
