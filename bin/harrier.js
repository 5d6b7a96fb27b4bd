#!/usr/bin/env node
// The `harrier` command. The CLI is TypeScript (cli/main.ts), compiled into dist/ by
// `npm run build`; importing it runs it.
import fs from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!fs.existsSync(entry)) {
  process.stderr.write(
    'harrier: dist/cli/main.js is missing: the CLI has not been built.\n' +
      '  Run `npm run build` (or `npm start`, which installs, builds and starts everything).\n' +
      (fs.existsSync(new URL('../cli/main.ts', import.meta.url)) ? '' : '  (This checkout has no cli/main.ts to build it from.)\n'),
  );
  process.exit(1);
}
await import(entry.href);
