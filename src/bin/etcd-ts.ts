#!/usr/bin/env node
/**
 * The etcd-ts server executable: reads flags, `ETCD_*` variables or a config file as etcd 3.4
 * does, sets up logging, logs the effective configuration, starts the member and stops it on
 * SIGINT/SIGTERM.
 */

import { createLogger, sinkForOutputs } from '../pkg/logger.js';
import { configLogFields } from '../server/config/log-fields.js';
import { parseConfig } from '../server/config/parse-config.js';
import { flagsText, usageText } from '../server/config/usage.js';
import { GIT_SHA, PROGRAM_NAME, SERVER_VERSION } from '../server/config/version.js';
import { applyHeapTuning } from './heap-tuning.js';
import { startMember } from './start-member.js';

async function main(): Promise<number> {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\n`);
    return parsed.exitCode;
  }
  if (parsed.action !== 'run') {
    if (parsed.action === 'help') {
      process.stderr.write(`${usageText()}\n`);
      process.stdout.write(`${flagsText()}\n`);
    } else {
      process.stdout.write(
        `${PROGRAM_NAME} Version: ${SERVER_VERSION}\nGit SHA: ${GIT_SHA}\nNode Version: ${process.version}\nNode OS/Arch: ${process.platform}/${process.arch}\n`,
      );
    }
    return 0;
  }
  applyHeapTuning();
  const config = parsed.config;
  const logger = createLogger({ level: config.logLevel, sink: sinkForOutputs(config.logOutputs) });
  for (const warning of parsed.warnings) logger.warn(warning);
  if (config.configFile !== '') {
    logger.info('loaded server configuration, other configuration command line flags and environment variables will be ignored if provided', { path: config.configFile });
  }
  logger.info('starting an etcd server', configLogFields(config));

  let server;
  try {
    server = await startMember(config, logger);
  } catch (err) {
    logger.fatal('failed to start etcd', { error: err });
    return 1;
  }
  const running = server;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info('received signal; shutting down', { signal: signal === 'SIGTERM' ? 'terminated' : 'interrupt' });
      void running.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  logger.info('closed etcd server', { name: config.name, 'data-dir': config.dataDir });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${PROGRAM_NAME}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
