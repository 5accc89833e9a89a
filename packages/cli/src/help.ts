/** Help texts of the `bgctl` command, one per command. */
export const HELP: Readonly<Record<string, string>> = {
  main: `bgctl — operate bg background-job queues on any backend

Usage: bgctl <command> [options]

Commands:
  stats URL [--queue q]...           ready, in-flight, delayed and dead counts per queue
                                     (PostgreSQL: also the outbox's backlog and lag)
  queue create|list|delete URL       create, list or delete queues
  dead list|show|replay|purge URL    inspect, replay or delete dead letters
  move --from URL --to URL           drain jobs from one backend into another
  enqueue URL TYPE JSON              write one job (operators)
  schema snapshot|check MODULE       record job payload schemas; CI guard against breaking changes
  dashboard URL...                   web dashboard: counts, charts, dead letters, replay, purge, enqueue

Backend URLs (the adapter package must be installed next to @bg/cli):
  memory:  redis://[:password@]host:6379[/db][?prefix=bg]   rediss://…
  sqs://us-east-1[?endpoint=http://127.0.0.1:4566]
  azure-queue://account[?accountKey=…|sas=…][&endpoint=…]   azure-queue://?connectionString=…
  pubsub://project[?endpoint=127.0.0.1:8085]
  postgres://user[:password]@host:5432/database[?schema=bg]   postgresql://…
  The URL may also come from $BG_URL. Credentials are never printed.

Third-party adapters (any other scheme): name their package, which exports schemes and fromUrl
  --adapter <package>                 load an adapter package (repeatable; before or after the command)
  BGCTL_ADAPTERS=pkg1,pkg2            the same from the environment
  e.g. bgctl stats 'fsq:///var/queues' --adapter bg-adapter-fsq

Common options: --json (machine-readable output), --help (per command: bgctl <command> --help)

Warnings are one line on stderr, printed once; BG_NO_WARNINGS=1 turns them off.

Exit codes: 0 ok · 1 failure · 2 usage error · 3 check failed · 4 not found ·
            5 not confirmed · 6 backend unreachable · 7 credentials refused · 130 interrupted
`,
  dashboard: `bgctl dashboard URL... [--port 7070] [--host 127.0.0.1] [--read-only] [--token T]
                [--module MODULE] [--queue q]... [--interval SECONDS]

Serves the bg web dashboard (@bg/dashboard) for one or more backends at once: every queue with
ready / in flight / delayed / dead counts and the adapter's capabilities, charts sampled by one
shared poller (every --interval seconds, default 5, from 2 to 86400), dead letters with filters,
paging, detail, replay and purge (with a confirmation step), and an enqueue form validated by
the job schemas of --module (the same module \`bgctl schema\` reads).

It listens on 127.0.0.1 by default and then serves loopback clients only. Any other --host needs
an access token (--token, or $BG_DASHBOARD_TOKEN to keep it out of the process list): open the
printed address once with ?token=<token>. --read-only hides and refuses replay, purge and enqueue.
Backend credentials are never sent to the page. Runs until Ctrl-C.

Examples:
  bgctl dashboard redis://127.0.0.1:6379
  bgctl dashboard "$BG_URL" 'sqs://eu-west-1' --module ./dist/jobs.js --port 8080
  BG_DASHBOARD_TOKEN=$(openssl rand -hex 16) bgctl dashboard "$BG_URL" --host 0.0.0.0 --read-only
`,
  stats: `bgctl stats URL [--queue q]... [--json]

Counts per queue: ready (visible now), in flight (leased by a worker), delayed, dead.
Give --queue several times or comma-separated (default: "default").
A count the backend cannot know is shown as ? (null in --json), never as 0: Pub/Sub counts
no backlog; Azure cannot tell leased from delayed jobs (it reports their approximate total).

PostgreSQL: when the database has bg's transactional outbox, its backlog (committed jobs
waiting for a relay) and lag (age of the oldest of them) follow, per target queue (every
queue with waiting rows, whatever --queue says); "outbox" in --json. A growing lag means no
relay runs, or the relays cannot keep up. Rows the target refused for good, set aside in
<schema>.outbox_failed, are counted ("failed"): no relay forwards them.

Examples:
  bgctl stats redis://127.0.0.1:6379 --queue default --queue emails
  bgctl stats postgres://app@db.internal:5432/app --json
`,
  queue: `bgctl queue <create|list|delete> URL [NAME...] [--yes] [--json]

  create  URL NAME...     create each queue and its dead-letter store (nothing happens to an
                          existing one). Run it at deploy time when producers and workers use
                          missingQueue: 'fail' (advised in production).
  list    URL             the bg queues the backend holds (dead-letter stores not listed)
  delete  URL NAME...     delete each queue with every job and dead letter in it, for good.
                          Asks first; without a terminal, only with --yes (else exit 5).
                          Exit 4 when a queue did not exist.

A backend that cannot list or delete queues answers UNSUPPORTED (exit 1).
Names may also be given with --queue (repeatable, comma-separated).

Examples:
  bgctl queue create redis://127.0.0.1:6379 emails thumbnails
  bgctl queue list 'sqs://eu-west-1'
  bgctl queue delete redis://127.0.0.1:6379 emails --yes
`,
  dead: `bgctl dead <list|show|replay|purge> URL [options]

  list    URL [filters] [--limit n]          dead letters, oldest first (default limit 50; says when more match)
  show    URL ID                             one dead letter with its error and payload
  replay  URL [ID...] [filters|--all] [--limit n]  back to the live queue: same id and bytes, attempts reset
  purge   URL [ID...] [filters|--all] [--limit n]  delete for good (--limit: the first n that match)

Ids named that are no dead letter of the queue are said on stderr (exit 4), whatever the
filters and --limit. --limit takes the oldest first, for ids too. Dead letters a replay
selected but found gone (replayed or purged meanwhile) are named too (exit 4).

Options:
  --queue q            queue (default "default")
  --reason r           max-attempts, permanent-error, malformed-envelope, invalid-payload,
                       unknown-type, unknown-version, bad-signature, timeout, manual (repeatable)
  --type t             job type (repeatable)
  --older-than d       dead-lettered at least this long ago (1500, 30s, 5m, 2h, 7d)
  --newer-than d       dead-lettered at most this long ago
  --all                replay/purge everything (needed when no id or filter is given)
  --dry-run            show what would be replayed/purged, change nothing
  --yes, -y            do not ask: purge always asks, replay asks above 10 jobs.
                       Without a terminal and without --yes, nothing is changed (exit 5).
  --json               JSON output

Examples:
  bgctl dead list redis://127.0.0.1:6379 --reason max-attempts --older-than 1h
  bgctl dead show redis://127.0.0.1:6379 0190c3e2-7f6a-7cc1-8a31-5b2f1c0e9d11
  bgctl dead replay redis://127.0.0.1:6379 --type email.welcome --dry-run
  bgctl dead purge redis://127.0.0.1:6379 --older-than 30d --yes
`,
  move: `bgctl move --from URL --to URL [--queue q]... [--dead] [options]

Drains the live jobs (and with --dead the dead letters) of each queue from one backend into
another, keeping job ids, envelope bytes and attributes. A job is removed from the source only
after the destination accepted it (receive with a lease → send → ack). Interrupt it at any
time (Ctrl-C finishes the batch in hand) and run it again to continue. A job interrupted
between send and ack is at worst duplicated, never lost (a rerun sends it again: each run has
deduplication keys of its own, so the destination keeps both copies; handlers are idempotent). Delayed and in-flight jobs move once they become visible: rerun later.

Options:
  --queue q        queue(s) to move (default "default"); the destination queue must exist
                   (bgctl queue create); a missing one is named and nothing moves
  --dead           also move dead letters (written on the destination first, then removed).
                   Without a native import they pass through the destination's live queue
                   for a moment, marked bg-dead-letter: a worker there sets them aside
                   without running them (also the copies a crash leaves). Nothing is removed
                   when the destination turns out to be the source under another URL (exit 1).
  --batch n        messages per round trip (default: the adapters' maximum)
  --idle d         stop after a receive waited this long for nothing (default 2s, at most 24.8 days)
  --lease d        lease on what is in hand while it is copied (default 60s); after a
                   crash it comes back when the lease ends
  --dry-run        only count what would move
  --json           JSON summary

Example:
  bgctl move --from redis://127.0.0.1:6379 --to 'sqs://eu-west-1' --queue default --dead
`,
  enqueue: `bgctl enqueue URL TYPE JSON [--queue q] [--delay d] [--key k] [--version n] [--module m]

Writes one job as an envelope v1 with the given type, payload version (default 1) and JSON
payload; a type with a control character is refused (exit 2). With --module (an ES module
exporting job definitions) the payload is validated first, as a worker would; --version then
defaults to the definition's version.

Options:
  --queue q      queue (default "default")
  --delay d      run no earlier than this (1500, 30s, 5m, 2h, 7d)
  --key k        idempotency key (deduplicated where the backend supports it; the output
                 says "deduplication": "unsupported" where it does not)
  --version n    payload version (default 1, or the module's current version)
  --module m     validate against this module's job definitions
  --id uuid      job id (default: a fresh UUIDv7)

Example:
  bgctl enqueue redis://127.0.0.1:6379 email.welcome '{"userId":"u1","locale":"de"}' --version 2
`,
  schema: `bgctl schema <snapshot|check> MODULE [--file bg-schema.json] [--force] [--json]

MODULE is an ES module (.js/.mjs) exporting job definitions made with defineJob.
  snapshot   writes the JSON Schema of each job's current version into the file, keeping
             every older version (append-only history; commit the file). A released
             version whose schema changed is refused (exit 3) unless --force.
  check      compares the module with the file and fails (exit 3) when a released
             version's schema changed, a version is not snapshotted yet, a version went
             backwards, or a version has no migration from the previous one.
             Run it in CI: it guards against breaking jobs already queued.

Schemas must offer JSON Schema: Standard JSON Schema (\`~standard.jsonSchema\`, zod ≥ 4.2)
or zod 4. Other libraries fail with a clear message.

Examples:
  bgctl schema snapshot ./dist/jobs.js
  bgctl schema check ./dist/jobs.js --file bg-schema.json
`,
};
