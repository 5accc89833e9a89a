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
});
