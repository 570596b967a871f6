import { Module, type DynamicModule, type Provider } from "@nestjs/common";
import { ClientProxyFactory } from "@nestjs/microservices";

import { CameraClient } from "./camera.client";
import { channelSecurity, type CameraChannelSecurity } from "./camera.credentials";
import {
  CAMERA_CHANNEL_SECURITY,
  CAMERA_GRPC_CLIENT,
  CAMERA_MODULE_OPTIONS,
  grpcClientOptions,
  type CameraModuleAsyncOptions,
  type CameraModuleOptions,
} from "./camera.options";
import { warnAboutDuplicatePeers } from "./camera.peers";

/** TLS credentials and the token, made once from the module's options (certificate files read at start-up). */
const channelSecurityProvider: Provider = {
  provide: CAMERA_CHANNEL_SECURITY,
  useFactory: (options: CameraModuleOptions) => channelSecurity(options),
  inject: [CAMERA_MODULE_OPTIONS],
};

/** The gRPC client of @nestjs/microservices (Transport.GRPC), built from the module's options. */
const grpcClientProvider: Provider = {
  provide: CAMERA_GRPC_CLIENT,
  useFactory: (options: CameraModuleOptions, security: CameraChannelSecurity) =>
    ClientProxyFactory.create(grpcClientOptions(options, security)),
  inject: [CAMERA_MODULE_OPTIONS, CAMERA_CHANNEL_SECURITY],
};

/**
 * Registers the camera service's gRPC client and provides {@link CameraClient}:
 *
 * ```ts
 * @Module({ imports: [CameraModule.register({ url: "127.0.0.1:50051" })] })
 * export class AppModule {}
 * ```
 */
@Module({})
export class CameraModule {
  /** Fixed options. */
  static register(options: CameraModuleOptions): DynamicModule {
    return CameraModule.build({ provide: CAMERA_MODULE_OPTIONS, useValue: options }, options.isGlobal);
  }

  /** Options from a factory, e.g. `useFactory: (config: ConfigService) => ({ url: config.get("CAMERA_GRPC_URL") })`. */
  static registerAsync(options: CameraModuleAsyncOptions): DynamicModule {
    const module = CameraModule.build(
      { provide: CAMERA_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
      options.isGlobal,
    );
    return { ...module, imports: options.imports ?? [] };
  }

  private static build(optionsProvider: Provider, isGlobal = false): DynamicModule {
    warnAboutDuplicatePeers();
    return {
      module: CameraModule,
      global: isGlobal,
      providers: [optionsProvider, channelSecurityProvider, grpcClientProvider, CameraClient],
      exports: [CameraClient, CAMERA_GRPC_CLIENT, CAMERA_MODULE_OPTIONS],
    };
  }
}
