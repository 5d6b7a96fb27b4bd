import fs from 'node:fs';
import { expect, it } from 'vitest';
import { HARRIER_VERSION } from './version.ts';

it('matches the version in package.json', () => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(HARRIER_VERSION).toBe(pkg.version);
});
