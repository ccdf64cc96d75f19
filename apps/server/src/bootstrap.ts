import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, loadConfig, LoadConfigOptions, parseListen, PlainConfig, refuseUnclaimedUpgrades } from '@m7s/core';
import { configureApi } from '@m7s/api';
import { CONFIG_OVERRIDES_KEY, DbConfig, openDatabase, SettingsService } from '@m7s/persistence';
import { AppModule } from './app.module';
import { PLATFORM_SECTIONS, PLUGINS } from './plugins';

export interface ServerOptions {
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: PlainConfig;
}

/**
 * Loads and validates the config, opens (and migrates) the database, applies the config changes made
 * through the API, builds the app with the enabled plugins and starts listening.
 */
export async function createServer(options: ServerOptions = {}): Promise<INestApplication> {
  const loadOptions: LoadConfigOptions = { file: options.configFile, env: options.env, overrides: options.overrides, plugins: PLUGINS, sections: PLATFORM_SECTIONS };
  const bootConfig = loadConfig(loadOptions);
  const dataSource = await openDatabase(bootConfig.sections.get('db') as DbConfig);
  let app: INestApplication | undefined;
  try {
    const persisted = await SettingsService.read<PlainConfig>(dataSource, CONFIG_OVERRIDES_KEY);
    const config = persisted ? loadConfig({ ...loadOptions, persisted }) : bootConfig;
    const logger = createLogger(config.core.log);
    app = await NestFactory.create(AppModule.forRoot(config, dataSource), { logger, bodyParser: false, forceCloseConnections: true });
    app.enableShutdownHooks();
    await configureApi(app, config);
    const { host, port } = parseListen(config.core.http.listen);
    await app.init();
    await app.startAllMicroservices();
    refuseUnclaimedUpgrades(app.getHttpServer());
    await app.listen(port, host ?? '0.0.0.0');
    return app;
  } catch (error) {
    if (app) await app.close().catch(() => undefined);
    if (dataSource.isInitialized) await dataSource.destroy();
    throw error;
  }
}
