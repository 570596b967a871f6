// Helpers the Node tests share: an application context holding the camera module, and the error a call
// rejects with.
import assert from "node:assert/strict";

import { Module, type INestApplicationContext } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";

import { CameraGrpcError, CameraModule, type CameraModuleOptions } from "../../dist";

/** A Nest application context with `CameraModule.register(options)` (and `providers`), logging off. */
export async function startApp(
  options: CameraModuleOptions,
  providers: NonNullable<Parameters<typeof Module>[0]>["providers"] = [],
): Promise<INestApplicationContext> {
  @Module({ imports: [CameraModule.register(options)], providers })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false });
}

/** The CameraGrpcError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<CameraGrpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CameraGrpcError, `not a CameraGrpcError: ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded");
}
