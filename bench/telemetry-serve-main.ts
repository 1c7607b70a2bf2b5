// The ingestion bench's server (bench/telemetry.ts): the REST app `mms serve` runs — same buildApi, same pino request
// log to stdout, same database settings — in a process of its own, with one difference: the per-address and per-key
// allowances are lifted, since all the load comes from one address and one key. The per-device allowance stays.
import pino from 'pino';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { buildApi } from '../src/http/app.js';
import { openDatabase } from '../src/store/index.js';

const config = loadConfig();
const logger = pino({ level: config.logLevel, base: { service: 'mms' } });
// As mms serve opens it (src/cli/serve.ts): on SQLite, checkpoints in a thread of their own.
const db = await openDatabase(config.databaseUrl, { backgroundCheckpoints: true });
const app = await buildApi({ db, config, cmdlets: CMDLETS, loggerInstance: logger.child({ component: 'http' }), telemetry: { perIpPerMinute: 1e12, perKeyPerMinute: 1e12 } });
await app.listen({ host: '127.0.0.1', port: 0 });
// The ingestion threads (MMS_TELEMETRY_THREADS) are loaded before the bench starts its clock.
await app.telemetryPool.ready();
const a = app.server.address();
logger.info({ url: `http://127.0.0.1:${a && typeof a === 'object' ? a.port : 0}` }, 'REST API listening (telemetry bench)');
process.once('SIGTERM', () => {
  void app.close().then(() => db.close()).then(() => process.exit(0));
});
