#!/bin/sh
# Prisma's CLI insists on a native schema-engine binary before `generate`, and
# downloads one from a host this machine cannot reach. Generating the client needs
# no engine, so this stub answers the version probe and refuses everything else.
# Migrations are applied by server/db/migrate.ts instead.
if [ "$1" = "--version" ]; then echo "schema-engine-cli stub (harrier)"; exit 0; fi
echo "harrier: the Prisma schema engine is not available offline; use 'harrier migrate'" >&2
exit 1
