import { describe, expect, it } from 'vitest';
import { mapRedisError } from '../src/map-error.js';

/** An ioredis ReplyError as the client makes it (a plain Error with the server's text). */
const reply = (message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), extra);

describe('mapRedisError', () => {
  it('reads an EXECABORT through the error that made the MULTI fail, and a cluster not ready yet as UNREACHABLE', () => {
    const clusterDown = reply('CLUSTERDOWN The cluster is down');
    const aborted = reply('EXECABORT Transaction discarded because of previous errors.', { previousErrors: [clusterDown] });
    expect(mapRedisError(aborted, 'ack'), 'an ack MULTI discarded while the cluster is down').toMatchObject({
      code: 'UNREACHABLE',
      retryable: true,
    });
    expect(
      mapRedisError(reply("Cluster isn't ready and enableOfflineQueue options is false"), 'ack'),
      'a call while the cluster client is not ready',
    ).toMatchObject({ code: 'UNREACHABLE', retryable: true });
    expect(
      mapRedisError(
        reply('EXECABORT Transaction discarded because of previous errors.', { previousErrors: [reply('NOGROUP x')] }),
        'ack',
      ),
      'an EXECABORT caused by a missing group',
    ).toMatchObject({ code: 'QUEUE_NOT_FOUND' });
  });

  it('says a key holding another type, and a server too old for a command, are not worth retrying', () => {
    const wrongType = mapRedisError(
      reply('WRONGTYPE Operation against a key holding the wrong kind of value'),
      'send to queue q',
    );
    expect(wrongType, 'WRONGTYPE (the prefix is shared with other data)').toMatchObject({
      code: 'BACKEND_ERROR',
      retryable: false,
    });
    expect(wrongType.message, 'the message says what to do').toMatch(/prefix of its own/);
    for (const text of [
      "ERR unknown command 'XAUTOCLAIM', with args beginning with: 'bg:{q}:s'",
      "ERR Unknown argument 'IDLE'",
      'ERR syntax error',
      "ERR unknown subcommand 'CREATECONSUMER'. Try XGROUP HELP.",
    ]) {
      const mapped = mapRedisError(reply(text), 'receive from queue q');
      expect(mapped, `${text}: a server without the command`).toMatchObject({ code: 'BACKEND_ERROR', retryable: false });
      expect(mapped.message, `${text}: names the version needed`).toMatch(/Redis 7\.0 or newer/);
    }
    expect(
      mapRedisError(reply('ERR Error running script (call to f_1): @user_script:1: oops'), 'x'),
      'other errors stay retryable',
    ).toMatchObject({
      code: 'BACKEND_ERROR',
      retryable: true,
    });
  });
});
