// A relay in its own process, for the kill -9 test: forwards the outbox of schema BG_TEST_SCHEMA
// to the queue table of the same database (through the PostgreSQL adapter).
import pg from 'pg';
import { postgresAdapter } from '../dist/index.js';
import { startRelay } from '../dist/outbox/index.js';

const url = process.env.BG_TEST_PG_URL;
const schema = process.env.BG_TEST_SCHEMA;
const db = new pg.Pool({ connectionString: url, max: 3 });
db.on('error', () => {});
const target = postgresAdapter({ url, schema, poolSize: 2 });
startRelay({ db, target, schema, batchSize: 7, pollIntervalMs: 200, onError: () => {} });
process.send?.('ready');
