// Loaded in the conformance crash case's child process.
import { redisAdapter } from '../dist/index.js';

const cluster = process.env.BG_TEST_REDIS_CLUSTER;

export default () =>
  redisAdapter({
    ...(cluster
      ? {
          cluster: cluster.split(',').map((node) => {
            const [host, port] = node.split(':');
            return { host, port: Number(port) };
          }),
        }
      : { url: process.env.BG_TEST_REDIS_URL }),
    prefix: process.env.BG_TEST_REDIS_PREFIX,
    onWarning: () => {},
  });
