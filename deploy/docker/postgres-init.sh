#!/bin/sh
# One role and one database per service; no service can connect to another's database.
set -eu
for svc in intake referral directory notify web; do
    pw_var=$(echo "${svc}_DB_PASSWORD" | tr '[:lower:]' '[:upper:]')
    pw=$(eval "printf %s \"\${$pw_var}\"")
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE ${svc} LOGIN PASSWORD '${pw}';
CREATE DATABASE ${svc} OWNER ${svc};
REVOKE CONNECT ON DATABASE ${svc} FROM PUBLIC;
SQL
done
