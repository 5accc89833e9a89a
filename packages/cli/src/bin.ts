#!/usr/bin/env node
import { processIo } from './io.js';
import { runCli, stopsGracefully } from './run-cli.js';

// A reader that went away (`bgctl … | head -1`): stop quietly, as other tools do.
// Any other failure to write the output (a full disk, a closed terminal) is one line, not a stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`bgctl: cannot write the output: ${error.code ?? error.name}: ${error.message}\n`);
  process.exit(1);
});

const argv = process.argv.slice(2);
const graceful = stopsGracefully(argv);
const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signals++;
  // Only long commands stop at a safe point; the others (a stats call waiting on a backend) end now.
  if (signals > 1 || !graceful) process.exit(130);
  process.stderr.write(`\nbgctl: ${signal}: finishing the batch in hand (again to quit now)\n`);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.exitCode = await runCli(argv, { io: processIo(), signal: controller.signal });
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
