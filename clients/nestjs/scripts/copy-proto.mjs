// Copies the contract (../../proto/**/*.proto) into dist/proto, so the built package carries the
// .proto files it loads at run time (CameraModule's default protoRoot).
import { cpSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(packageRoot, "..", "..", "proto");
const destination = join(packageRoot, "dist", "proto");
rmSync(destination, { recursive: true, force: true });
cpSync(source, destination, {
  recursive: true,
  filter: (path) => path.endsWith(".proto") || statSync(path).isDirectory(),
});
