// Generates src/generated/ from ../../proto with buf + ts-proto (options in buf.gen.yaml).
//   node scripts/generate.mjs           regenerate in place (npm run generate)
//   node scripts/generate.mjs --check   exit 1 if the committed files differ from a fresh generation
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const generatedDir = join(packageRoot, "src", "generated");
const bin = join(packageRoot, "node_modules", ".bin");

function generate(outputBase) {
  // buf writes each plugin's `out` (src/generated) under outputBase.
  const result = spawnSync(join(bin, "buf"), ["generate", "--template", "buf.gen.yaml", "--output", outputBase], {
    cwd: packageRoot,
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
    encoding: "utf8",
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr + (result.error ? String(result.error) : ""));
    process.exit(2);
  }
}

function files(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => relative(dir, path))
    .sort();
}

if (process.argv.includes("--check")) {
  const scratch = mkdtempSync(join(tmpdir(), "camera-nestjs-generated-"));
  try {
    generate(scratch);
    const fresh = join(scratch, "src", "generated");
    const expected = files(fresh);
    const actual = files(generatedDir);
    const stale = [...new Set([...expected, ...actual])].filter(
      (name) =>
        !expected.includes(name) ||
        !actual.includes(name) ||
        !readFileSync(join(fresh, name)).equals(readFileSync(join(generatedDir, name))),
    );
    if (stale.length > 0) {
      console.error(`generated types are stale (${stale.join(", ")}): run \`npm run generate\` and commit src/generated/`);
      process.exit(1);
    }
    console.log("generated types are up to date");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  rmSync(generatedDir, { recursive: true, force: true });
  generate(".");
  console.log(`generated into ${relative(packageRoot, generatedDir)}`);
}
