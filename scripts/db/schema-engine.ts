// Loads Prisma's schema engine as WebAssembly. Prisma's CLI would download a
// native engine that this machine cannot fetch; the wasm build computes the same
// migration SQL through a driver adapter. Only development scripts use it: at run
// time, `harrier migrate` applies the committed SQL files (server/db/migrate.ts).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

const require = createRequire(import.meta.url);

// The package ships an ESM entry that imports the .wasm file directly, which Node 20
// cannot do; instantiate the module by hand and hand it to the JS glue instead.
let gluePromise: Promise<any> | undefined;

// A Rust panic inside the engine reports its message through this global before
// the call fails; keep it so the error says what went wrong.
const panics = { last: '', set_message(message: string) { this.last = message; } };
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY = panics;

export function lastEnginePanic(): string {
  return panics.last;
}

async function instantiate() {
  const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
  const glue = await import(path.join(dir, 'schema_engine_bg.js'));
  const bytes = fs.readFileSync(path.join(dir, 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
  return glue;
}

export async function loadSchemaEngine(
  schema: { path: string; content: string },
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
) {
  gluePromise ??= instantiate();
  const glue = await gluePromise;
  const bound = bindMigrationAwareSqlAdapterFactory(adapterFactory);
  const engine = await glue.SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    (log: string) => {
      if (process.env.HARRIER_SCHEMA_ENGINE_DEBUG) console.error(log);
    },
    bound,
  );
  return wrapErrors(engine as SchemaEngine, bound.errorRegistry);
}

type SchemaEngine = import('@prisma/schema-engine-wasm').SchemaEngine;

// Adapter failures reach us as "External error id#N"; the adapter's error registry
// holds the real error, so put its message into what the caller sees.
function wrapErrors(engine: SchemaEngine, registry: { consumeError(id: number): { error: unknown } | undefined }): SchemaEngine {
  return new Proxy(engine, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (error) {
          const message = String((error as Error)?.message ?? error);
          const id = /External error id#(\d+)/.exec(message)?.[1];
          const cause = id ? registry.consumeError(Number(id))?.error : undefined;
          const panic = lastEnginePanic();
          const detail = [cause ? `adapter error: ${JSON.stringify(cause)}` : '', panic ? `engine panic: ${panic}` : ''].filter(Boolean);
          throw new Error([message, ...detail].join('\n'));
        }
      };
    },
  });
}
