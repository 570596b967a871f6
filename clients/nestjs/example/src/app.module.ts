import { Module } from "@nestjs/common";
import { ConfigModule, ConfigService } from "@nestjs/config";
import { APP_FILTER } from "@nestjs/core";
import { CameraGrpcExceptionFilter, CameraModule } from "@camera-grpc/nestjs";

import { CameraController } from "./camera.controller";
import { RecordingsController } from "./recordings.controller";

@Module({
  imports: [
    // Settings from the environment (and a .env file, see .env.example).
    ConfigModule.forRoot({ isGlobal: true }),
    CameraModule.registerAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        url: config.getOrThrow<string>("CAMERA_GRPC_URL"),
        defaultDeadlineMs: Number(config.get("CAMERA_DEADLINE_MS", 10_000)),
        // TLS and a token, when the service asks for them (empty or unset: not used). Files are read
        // at start-up; a file that cannot be read, or a token without TLS to another host, stops it.
        ca: setting(config, "CAMERA_GRPC_CA"),
        cert: setting(config, "CAMERA_GRPC_CERT"),
        key: setting(config, "CAMERA_GRPC_KEY"),
        token: setting(config, "CAMERA_GRPC_TOKEN"),
      }),
    }),
  ],
  controllers: [CameraController, RecordingsController],
  // Every CameraGrpcError a handler throws becomes the REST gateway's answer: 503 while the camera
  // or the service is away, 422 for an invalid value, 504 for a deadline, ... instead of a 500.
  providers: [{ provide: APP_FILTER, useClass: CameraGrpcExceptionFilter }],
})
export class AppModule {}

/** A setting's value, or undefined when it is unset or empty. */
function setting(config: ConfigService, name: string): string | undefined {
  return config.get<string>(name) || undefined;
}
