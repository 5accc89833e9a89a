// Loaded in the conformance crash and competing-process cases' child processes.
import { postgresAdapter } from '../dist/index.js';

export default () => postgresAdapter({ url: process.env.BG_TEST_PG_URL, schema: process.env.BG_TEST_PG_SCHEMA, poolSize: 3 });
