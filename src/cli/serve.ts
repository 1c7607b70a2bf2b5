import pino from 'pino';
import { workerSettings, type Config } from '../config.js';
import { describeDemo, loadDemoIfEmpty } from '../demo/index.js';
import { MigrationWorker } from '../migration/index.js';
import { openDatabase, redact } from '../store/index.js';

/**
 * `mms serve` (what `npm start` runs): opens the database (schema brought up to date), loads the Contoso demo on
 * a new one, and runs the migration worker until SIGTERM or Ctrl+C, when it stops claiming, finishes or gives
 * back the request in hand, and exits.
 */
export async function serve(config: Config): Promise<void> {
  const logger = pino({ level: config.logLevel, base: { service: 'mms' } });
  const db = await openDatabase(config.databaseUrl);
  try {
    if (config.demoOnFirstStart) {
      const demo = await loadDemoIfEmpty(db, { now: Date.now() });
      if (demo) process.stdout.write(`${describeDemo(demo)}\n`);
    }
    const worker = new MigrationWorker({ db, logger, ...workerSettings(config) });
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping: no new claims; finishing or giving back the request in hand');
      void worker.stop();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    logger.info({ database: redact(config.databaseUrl), dialect: db.dialect, worker: worker.id }, 'MMS worker running; mms help lists the commands');
    await worker.start();
    logger.info({ worker: worker.id }, 'MMS worker stopped');
  } finally {
    await db.close();
  }
}
