import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, loadConfig, LoadConfigOptions, parseListen, PlainConfig, refuseUnclaimedUpgrades } from '@m7s/core';
import { AppModule } from './app.module';
import { PLUGINS } from './plugins';

export interface ServerOptions {
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: PlainConfig;
}

/** Loads and validates the config, builds the app with the enabled plugins and starts listening. */
export async function createServer(options: ServerOptions = {}): Promise<INestApplication> {
  const loadOptions: LoadConfigOptions = { file: options.configFile, env: options.env, overrides: options.overrides, plugins: PLUGINS };
  const config = loadConfig(loadOptions);
  const logger = createLogger(config.core.log);
  const app = await NestFactory.create(AppModule.forRoot(config), { logger, bodyParser: true, forceCloseConnections: true });
  app.enableShutdownHooks();
  const { host, port } = parseListen(config.core.http.listen);
  await app.init();
  refuseUnclaimedUpgrades(app.getHttpServer());
  await app.listen(port, host ?? '0.0.0.0');
  return app;
}
