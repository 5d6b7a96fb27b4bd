// Vite compiles the web UI without checking types, so CI (which runs only `npm test`)
// checks them here: a field renamed in core/domain.ts fails this test, not a page.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

it('the web UI type-checks against the server\'s domain types', async () => {
  const result = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'web/tsconfig.json'], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
  expect(result.out).toBe('');
  expect(result.code).toBe(0);
}, 60_000);
