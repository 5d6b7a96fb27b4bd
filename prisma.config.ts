// Prisma's CLI reads this file. It points the CLI at a stub engine so that
// `prisma generate` works without downloading Prisma's native binary.
import path from 'node:path';
import { defineConfig } from 'prisma/config';

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.resolve(import.meta.dirname, 'scripts/schema-engine-stub.sh');
process.env.CHECKPOINT_DISABLE ??= '1';

export default defineConfig({});
