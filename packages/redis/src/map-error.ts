import { REDACTED } from '@bg/core';
import { BgError, isBgError, networkError } from '@bg/core/adapter';

/** Commands whose arguments are credentials (ioredis keeps them on its ReplyError). */
const CREDENTIAL_COMMANDS = new Set(['auth', 'hello', 'migrate']);

/** `error` with the arguments of the command ioredis keeps on it masked when they are credentials (AUTH, HELLO, MIGRATE). */
export function maskCommand(error: unknown): unknown {
  const command = (error as { command?: { name?: unknown; args?: unknown } } | null)?.command;
  if (command && typeof command.name === 'string' && CREDENTIAL_COMMANDS.has(command.name.toLowerCase())) {
    command.args = [REDACTED];
  }
  return error;
}

/** Maps an ioredis error to a {@link BgError}, keeping it as `cause` (its AUTH/HELLO arguments masked). */
export function mapRedisError(error: unknown, during: string): BgError {
  if (isBgError(error)) return error;
  maskCommand(error);
  // A MULTI discarded because a queued command failed (EXECABORT): what failed is the cause
  // (CLUSTERDOWN while the cluster recovers, …); ioredis keeps those errors on the EXECABORT.
  const previous = (error as { previousErrors?: unknown } | null)?.previousErrors;
  if (Array.isArray(previous) && previous.length > 0 && /^EXECABORT/.test(String((error as Error).message))) {
    return mapRedisError(previous[0], during);
  }
  // Transient network failures, the same on every backend (the kit's list; looks through causes).
  const network = networkError('Redis', during, error);
  if (network) return network;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code ?? '';
  if (/^NOGROUP|no such key/i.test(message)) {
    return new BgError(
      'QUEUE_NOT_FOUND',
      `${during}: the queue does not exist (create it: bgctl queue create, or missingQueue: 'create'): ${message}`,
      { cause: error },
    );
  }
  if (/WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username-password/i.test(message)) {
    return new BgError('AUTH_FAILED', `${during}: Redis rejected the credentials (${message})`, {
      cause: error,
      retryable: false,
    });
  }
  if (
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE/.test(code + message) ||
    /Connection is closed|Stream isn't writeable|connect ETIMEDOUT|Command timed out|Socket timeout|Reached the max retries|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|None of startup nodes is available|Failed to refresh slots cache|Cluster isn't ready/i.test(
      message,
    )
  ) {
    return new BgError('UNREACHABLE', `${during}: Redis is unreachable: ${message}`, { cause: error });
  }
  // A key of the queue holds another type of value (another application shares the prefix):
  // every retry would meet the same key.
  if (/^WRONGTYPE/.test(message)) {
    return new BgError(
      'BACKEND_ERROR',
      `${during}: a key of the queue holds another type of value (is the prefix shared with other data? give the adapter a prefix of its own): ${message}`,
      { cause: error, retryable: false },
    );
  }
  // A server without a command or argument the adapter needs (Redis older than 7.0: XAUTOCLAIM,
  // XPENDING … IDLE, XINFO CONSUMERS in scripts …), or one that renamed it away.
  if (/^ERR (unknown command|unknown subcommand|syntax error|Unknown argument)/i.test(message)) {
    return new BgError(
      'BACKEND_ERROR',
      `${during}: the server does not take a command the adapter needs (bg needs Redis 7.0 or newer, with the stream and sorted-set commands enabled): ${message}`,
      { cause: error, retryable: false },
    );
  }
  if (/^OOM/.test(message)) {
    return new BgError('BACKEND_ERROR', `${during}: Redis is out of memory (maxmemory reached): ${message}`, {
      cause: error,
      retryable: true,
    });
  }
  return new BgError('BACKEND_ERROR', `${during}: ${message}`, { cause: error });
}
