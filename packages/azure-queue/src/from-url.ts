import { BgError } from '@bg/core';
import { type AzureQueueAdapter, azureQueueAdapter } from './azure-queue-adapter.js';
import type { AzureCredential } from './service-client.js';

/**
 * `connect()` entry point for `azure-queue:` URLs.
 *
 * - `azure-queue://?connectionString=<url-encoded connection string>`
 * - `azure-queue://<account>?accountKey=<key>` — shared key
 * - `azure-queue://<account>?sas=<url-encoded SAS token>` — SAS
 * - `azure-queue://<account>` — Entra ID through `DefaultAzureCredential` (needs `@azure/identity`)
 *
 * `endpoint=<queue service URL>` overrides `https://<account>.queue.core.windows.net` (e.g.
 * `http://127.0.0.1:10001/devstoreaccount1` for Azurite), and `ttl=<seconds>` sets
 * `messageTimeToLiveSeconds` (default -1, never expires).
 *
 * @example
 * ```ts
 * const adapter = await connect('azure-queue://myaccount') // DefaultAzureCredential
 * ```
 */
export async function fromUrl(url: URL): Promise<AzureQueueAdapter> {
  const params = url.searchParams;
  const ttlParam = params.get('ttl');
  const ttl = ttlParam === null ? undefined : Number(ttlParam);
  if (ttl !== undefined && !Number.isInteger(ttl)) throw new BgError('INVALID_ARGUMENT', `azure-queue URL: bad ttl ${ttlParam}`);
  const tuning = ttl === undefined ? {} : { messageTimeToLiveSeconds: ttl };
  const connectionString = params.get('connectionString');
  if (connectionString) return azureQueueAdapter({ connectionString, ...tuning });
  const account = decodeURIComponent(url.hostname);
  const endpoint = params.get('endpoint') ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
  if (!endpoint) {
    throw new BgError(
      'INVALID_ARGUMENT',
      'azure-queue URL needs an account (azure-queue://<account>), endpoint= or connectionString=',
    );
  }
  const accountKey = params.get('accountKey');
  if (accountKey) {
    if (!account) throw new BgError('INVALID_ARGUMENT', 'azure-queue URL: accountKey needs the account name as host');
    return azureQueueAdapter({ url: endpoint, accountName: account, accountKey, ...tuning });
  }
  const sas = params.get('sas');
  if (sas) return azureQueueAdapter({ url: `${endpoint}?${sas.replace(/^\?/, '')}`, ...tuning });
  return azureQueueAdapter({ url: endpoint, credential: await defaultAzureCredential(), ...tuning });
}

async function defaultAzureCredential(): Promise<AzureCredential> {
  const name = '@azure/identity';
  let identity: { DefaultAzureCredential: new () => AzureCredential };
  try {
    identity = (await import(name)) as typeof identity;
  } catch (cause) {
    throw new BgError(
      'ADAPTER_NOT_INSTALLED',
      'azure-queue URLs without a key or SAS use DefaultAzureCredential: pnpm add @azure/identity',
      {
        cause,
      },
    );
  }
  return new identity.DefaultAzureCredential();
}
