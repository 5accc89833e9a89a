#!/usr/bin/env node
import { processIo } from './io.js';
import { runCli } from './run-cli.js';

const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signals++;
  if (signals > 1) process.exit(130);
  process.stderr.write(`\nbgctl: ${signal}: finishing the batch in hand (again to quit now)\n`);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.exitCode = await runCli(process.argv.slice(2), { io: processIo(), signal: controller.signal });
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
