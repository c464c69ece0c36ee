#!/bin/sh
# Run by the postgres image once, when it creates the data directory: lets the replica (docker-compose.yml,
# postgres-replica) connect for streaming replication as the database's owner, with its password.
set -e
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
