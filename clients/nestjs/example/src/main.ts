import "reflect-metadata";

import { Logger } from "@nestjs/common";
import { ConfigService } from "@nestjs/config";
import { NestFactory } from "@nestjs/core";
import type { AddressInfo } from "node:net";

import { AppModule } from "./app.module";

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks(); // SIGTERM closes the gRPC channel (CameraClient.onModuleDestroy)
  const config = app.get(ConfigService);
  const host = config.get<string>("HOST", "127.0.0.1");
  await app.listen(Number(config.get("PORT", 3000)), host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  new Logger("Example").log(`listening on http://${host}:${port}, camera service ${config.get("CAMERA_GRPC_URL")}`);
}

void bootstrap();
