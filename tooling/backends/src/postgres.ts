import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { type KillableServer, killableServer, managedServer, skipMissing } from './managed-server.js';
import { freePort, makeDataDir } from './server-process.js';

/**
 * A private PostgreSQL server we started (initdb'd into a temp folder). `pid` is the
 * postmaster's; `stop()` is a fast shutdown; `kill()` a `kill -9` of the postmaster and all
 * its backends, after which `start()` recovers from the WAL.
 */
export interface PostgresServer extends KillableServer {
  /** `postgres://bg@127.0.0.1:<port>/bg`: the trusted test user (no password needed). */
  readonly url: string;
  /** `postgres://bg_secret:<password>@127.0.0.1:<port>/bg`: a user that must give its password (scram). */
  readonly passwordUrl: string;
  /** The password of the `bg_secret` user. */
  readonly password: string;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** `fsync` (default false: the OS page cache survives a `kill -9` of the server, so tests lose nothing). */
  readonly fsync?: boolean;
  /** `max_connections` (default 200). */
  readonly maxConnections?: number;
  /** The password of the `bg_secret` user (default `s3cret-pg`). */
  readonly password?: string;
}

/** The bin folder of the newest installed PostgreSQL: `pg_config --bindir`, else `/usr/lib/postgresql/<n>/bin`. */
export function findPostgresBin(): string | undefined {
  const has = (dir: string): boolean => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  if (process.env.BG_PG_BINDIR && has(process.env.BG_PG_BINDIR)) return process.env.BG_PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (has(join(root, v, 'bin'))) return join(root, v, 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (has(dir)) return dir;
  } catch {
    // no pg_config
  }
  return undefined;
}

/** The OS user the server runs as: ourselves, or (as root, which initdb refuses) `postgres`, else `nobody`. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root and neither the postgres nor the nobody user exists: initdb refuses to run as root');
}

/** Whether a PostgreSQL server answers on `port` (an SSLRequest is answered with one byte, `N` or `S`). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000);
    socket.on('connect', () => socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])));
    socket.on('data', (chunk) => done(chunk[0] === 0x4e || chunk[0] === 0x53));
    socket.on('timeout', () => done(false));
    socket.on('error', () => done(false));
  });
}

/**
 * Starts a private PostgreSQL on 127.0.0.1 on a free port: `initdb` into a temp folder (as
 * the `postgres` OS user when we are root — initdb refuses root), the unix socket in that
 * folder, `trust` for the `bg` user and `scram-sha-256` for `bg_secret` (to test credentials
 * and redaction), database `bg`. The postmaster is started directly (not through `pg_ctl`) as
 * the leader of its own process group, so `kill()` is a real `kill -9` of the server and all
 * its backends. Returns undefined on a laptop without PostgreSQL (with a warning); throws in
 * CI (`CI` set).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer | undefined> {
  const bin = findPostgresBin();
  if (!bin) return skipMissing('PostgreSQL', 'apt-get install -y postgresql (bash tooling/scripts/setup.sh does it)');
  const user = serverUser();
  const password = options.password ?? 's3cret-pg';
  const port = await freePort();
  const dataDir = makeDataDir('postgres');
  const pgdata = join(dataDir, 'data');
  const pwfile = join(dataDir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  if (user) {
    chownSync(dataDir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  chmodSync(dataDir, 0o700);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' };
  const run = (command: string, args: string[]): void => {
    const r = spawnSync(join(bin, command), args, { env, encoding: 'utf8', cwd: dataDir, ...(user ?? {}) });
    if (r.status !== 0) throw new Error(`${command} failed (${r.status}): ${r.stderr || r.stdout || String(r.error)}`);
  };
  run('initdb', ['-D', pgdata, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  // Our own rules only: bg_secret must give its password; everything else is trusted.
  writeFileSync(
    join(pgdata, 'pg_hba.conf'),
    ['local all all trust', 'host all bg_secret 127.0.0.1/32 scram-sha-256', 'host all all 127.0.0.1/32 trust', ''].join('\n'),
  );
  if (user) chownSync(join(pgdata, 'pg_hba.conf'), user.uid, user.gid);
  const args = [
    '-D',
    pgdata,
    '-p',
    String(port),
    '-k',
    dataDir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `max_connections=${options.maxConnections ?? 200}`,
    '-c',
    'shared_buffers=32MB',
    '-c',
    `fsync=${options.fsync ? 'on' : 'off'}`,
    '-c',
    'full_page_writes=off',
    '-c',
    'logging_collector=off',
    '-c',
    'password_encryption=scram-sha-256',
  ];
  const server = managedServer({
    name: 'postgres',
    where: `port ${port}`,
    command: join(bin, 'postgres'),
    args,
    env,
    spawn: { processGroup: true, ...(user ? { user } : {}) },
    async ready() {
      if (!(await answers(port))) return false;
      // Accepting connections (not "starting up" / recovering) and ours: psql over our socket.
      const r = spawnSync(
        join(bin, 'psql'),
        ['-h', dataDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-Atc', 'select pg_backend_pid() > 0'],
        { env, encoding: 'utf8' },
      );
      return r.status === 0 && r.stdout.trim() === 't';
    },
  });
  await server.start();
  const psql = (sql: string): void => {
    const r = spawnSync(
      join(bin, 'psql'),
      ['-h', dataDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', sql],
      {
        env,
        encoding: 'utf8',
      },
    );
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  };
  psql(`create role bg login superuser; create role bg_secret login password '${password.replace(/'/g, "''")}'`);
  psql('create database bg owner bg');
  psql('grant all on database bg to bg_secret');
  return killableServer(
    server,
    // SIGINT: fast shutdown (the group also gets it; backends treat it as a query cancel).
    { port, dataDir, stopSignal: 'SIGINT', graceMs: 5_000 },
    {
      url: `postgres://bg@127.0.0.1:${port}/bg`,
      passwordUrl: `postgres://bg_secret:${encodeURIComponent(password)}@127.0.0.1:${port}/bg`,
      password,
    },
  );
}
