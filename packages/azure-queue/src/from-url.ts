import { BgError, invalidUrl, urlParams } from '@bg/core/adapter';
import { type AzureQueueAdapter, azureQueueAdapter } from './azure-queue-adapter.js';
import type { AzureCredential } from './service-client.js';

/** The parameters an `azure-queue://` URL may carry (the URL tests generate from this list). */
export const AZURE_QUEUE_URL_PARAMETERS = ['connectionString', 'accountKey', 'sas', 'endpoint', 'ttl'] as const;
/** Storage account names (Azurite's `devstoreaccount1` included). */
const ACCOUNT = /^[a-z0-9]{3,24}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `connect()` entry point for `azure-queue:` URLs.
 *
 * - `azure-queue://?connectionString=<url-encoded connection string>`
 * - `azure-queue://<account>?accountKey=<url-encoded key>` — shared key
 * - `azure-queue://<account>?sas=<url-encoded SAS token>` — SAS
 * - `azure-queue://<account>` — Entra ID through `DefaultAzureCredential` (needs `@azure/identity`)
 *
 * `endpoint=<queue service URL>` overrides `https://<account>.queue.core.windows.net` (e.g.
 * `http://127.0.0.1:10001/devstoreaccount1` for Azurite), and `ttl=<seconds>` sets
 * `messageTimeToLiveSeconds` (default -1, never expires).
 *
 * The whole URL is checked before anything connects: a bad account name, endpoint, key,
 * SAS token or ttl, two credentials at once, an unknown or repeated parameter is
 * `INVALID_ARGUMENT` (not retryable), naming the parameter and never echoing a secret.
 *
 * @example
 * ```ts
 * const adapter = await connect('azure-queue://myaccount') // DefaultAzureCredential
 * ```
 */
export async function fromUrl(url: URL): Promise<AzureQueueAdapter> {
  if (url.protocol !== 'azure-queue:') throw invalidUrl('azure-queue', 'the scheme must be azure-queue:');
  if (url.username !== '' || url.password !== '') {
    throw invalidUrl('azure-queue', 'credentials go in accountKey=, sas= or connectionString=, not before the account');
  }
  if (url.port !== '') throw invalidUrl('azure-queue', 'a port belongs in endpoint=, not after the account');
  if (url.pathname !== '' && url.pathname !== '/')
    throw invalidUrl('azure-queue', 'nothing may follow the account (azure-queue://<account>?…)');
  if (url.hash !== '') throw invalidUrl('azure-queue', 'a #fragment has no meaning here');
  const params = urlParams(url, 'azure-queue', AZURE_QUEUE_URL_PARAMETERS);
  const ttl = params.integer('ttl', { min: -1, max: 2_147_483_647 });
  if (ttl === 0) throw invalidUrl('azure-queue', 'parameter "ttl" must be -1 (never expires) or a positive number of seconds');
  const tuning = ttl === undefined ? {} : { messageTimeToLiveSeconds: ttl };
  const connectionString = params.string('connectionString');
  const accountKey = params.string('accountKey');
  const sas = params.string('sas');
  const endpointParam = params.httpUrl('endpoint');
  const given = [connectionString, accountKey, sas].filter((c) => c !== undefined).length;
  if (given > 1) throw invalidUrl('azure-queue', 'give one of connectionString=, accountKey= or sas=');
  const account = url.hostname;
  if (account !== '' && !ACCOUNT.test(account)) {
    throw invalidUrl('azure-queue', 'the account name must be 3-24 lowercase letters and digits');
  }
  if (connectionString !== undefined) {
    if (account !== '' || endpointParam !== undefined) {
      throw invalidUrl('azure-queue', 'a connectionString= URL takes no account or endpoint= (the connection string has them)');
    }
    if (!/(^|;)\s*[A-Za-z]+\s*=/.test(connectionString)) {
      throw invalidUrl('azure-queue', 'parameter "connectionString" must be a url-encoded connection string (Name=value;…)');
    }
    return azureQueueAdapter({ connectionString, ...tuning });
  }
  const endpoint = endpointParam ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
  if (!endpoint) {
    throw invalidUrl('azure-queue', 'it needs an account (azure-queue://<account>), endpoint= or connectionString=');
  }
  if (accountKey !== undefined) {
    if (!account) throw invalidUrl('azure-queue', 'accountKey needs the account name as host');
    if (!BASE64.test(accountKey)) {
      throw invalidUrl('azure-queue', 'parameter "accountKey" must be base64 (percent-encode it: + / = are %2B %2F %3D)');
    }
    return azureQueueAdapter({ url: endpoint, accountName: account, accountKey, ...tuning });
  }
  if (sas !== undefined) {
    const token = sas.replace(/^\?/, '');
    if (!/(^|&)sig=[^&]+/.test(token) || /\s/.test(token)) {
      throw invalidUrl('azure-queue', 'parameter "sas" must be a url-encoded SAS token (sv=…&sig=…)');
    }
    return azureQueueAdapter({ url: `${endpoint}?${token}`, ...tuning });
  }
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
