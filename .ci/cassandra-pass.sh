#!/usr/bin/env bash
# The MESSAGE_STORE=cassandra pass: starts a real single-node Cassandra (scripts/cassandra),
# then runs the MessageRepository contract suite (appends, events, reads, marks, purges),
# the crash-between-writes suite and a focused e2e subset (1:1 live and offline delivery,
# sync, idempotent sends, history, group fan-out) with message history in Cassandra and the
# rest in PostgreSQL + Redis. Kept to a few minutes: the full suites run on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/cassandra/start.sh
trap 'bash scripts/cassandra/stop.sh --wipe' EXIT

export DATABASE_URL="${CI_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${CI_REDIS_URL:-redis://127.0.0.1:6379}"
export CASSANDRA_CONTACT_POINTS="127.0.0.1:${CASSANDRA_NATIVE_PORT:-19042}"
export MESSAGE_STORE=cassandra

jest() { node --experimental-vm-modules --no-warnings node_modules/jest/bin/jest.js --runInBand "$@"; }

# The contract file also holds the PostgreSQL harness, which the passes before ran.
jest test/contracts/message-repository.contract-spec.ts test/e2e/cassandra-crash.e2e-spec.ts \
  -t '^(MessageRepository contract: cassandra|Cassandra message store)'
jest test/e2e/messaging.e2e-spec.ts test/e2e/group-fanout.e2e-spec.ts \
  -t 'live delivery|offline delivery and sync|idempotent sends|pages history|delivers one message live'
