#!/usr/bin/env node
import { processIo } from './io.js';
import { runCli, stopsGracefully } from './run-cli.js';
import { scrubText, secretsIn } from './secrets.js';

// A reader that went away (`bgctl … | head -1`): stop quietly, as other tools do.
// Any other failure to write the output (a full disk, a closed terminal) is one line, not a stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`bgctl: cannot write the output: ${error.code ?? error.name}: ${error.message}\n`);
  process.exit(1);
});

const argv = process.argv.slice(2);

// What the libraries under bgctl write themselves (ioredis's DEBUG=ioredis:* log writes every
// command, AUTH with the password; console warnings of an SDK) is scrubbed of the credentials
// of the arguments and $BG_URL too. bgctl's own output is scrubbed already (field by field for
// --json, which must stay JSON): it goes straight to the streams.
const secrets = secretsIn(argv, process.env);
const direct = {
  out: process.stdout.write.bind(process.stdout) as (text: string) => boolean,
  err: process.stderr.write.bind(process.stderr) as (text: string) => boolean,
};
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const encoding = typeof rest[0] === 'string' ? rest[0] : undefined;
    if (typeof chunk === 'string' && (encoding === undefined || /^utf-?8$/i.test(encoding)))
      return write(scrubText(chunk, secrets), ...rest);
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
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

process.exitCode = await runCli(argv, {
  io: { ...processIo(), out: (text) => direct.out(text), err: (text) => direct.err(text) },
  signal: controller.signal,
});
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
