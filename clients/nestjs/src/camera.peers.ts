import { dirname } from "node:path";

import { Logger } from "@nestjs/common";

/** The peer dependencies: the application's copies must be the ones this package uses. */
export const PEER_PACKAGES = ["@nestjs/common", "@nestjs/core", "@nestjs/microservices", "@grpc/grpc-js", "rxjs"] as const;

/**
 * Peers this package loads from somewhere else than the application does: `[name, ours, the app's]`.
 * That happens when the package is a symbolic link into its source folder (`npm link`, or
 * `npm install <folder>` without `--install-links`): Node.js resolves its imports from the folder's
 * own node_modules (the development copies). Two copies of @nestjs/common break `instanceof`
 * (an HttpException of one copy is a 500 for the other) and injection by class.
 */
export function duplicatePeers(applicationDir: string): Array<[string, string, string]> {
  const duplicates: Array<[string, string, string]> = [];
  for (const name of PEER_PACKAGES) {
    try {
      const ours = require.resolve(name);
      const theirs = require.resolve(name, { paths: [applicationDir] });
      if (ours !== theirs) {
        duplicates.push([name, ours, theirs]);
      }
    } catch {
      // Not resolvable from the application's folder (e.g. a script elsewhere): nothing to compare.
    }
  }
  return duplicates;
}

let checked = false;

/** Warn once if this package does not use the application's copies of its peers. */
export function warnAboutDuplicatePeers(): void {
  if (checked) {
    return;
  }
  checked = true;
  const applicationDir = require.main?.filename ? dirname(require.main.filename) : process.cwd();
  for (const [name, ours, theirs] of duplicatePeers(applicationDir)) {
    new Logger("CameraModule").warn(
      `@camera-grpc/nestjs loads its own ${name} (${ours}), not the application's (${theirs}): it is ` +
        "installed as a link to its source folder. Install it from the tarball of `npm pack`, or with " +
        "`npm install --install-links <folder>`, so that it shares the application's copy.",
    );
  }
}
