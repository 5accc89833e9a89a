// Loaded in the conformance crash case's child process.
import { redisAdapter } from '../dist/index.js';

export default () =>
  redisAdapter({ url: process.env.BG_TEST_REDIS_URL, prefix: process.env.BG_TEST_REDIS_PREFIX, onWarning: () => {} });
