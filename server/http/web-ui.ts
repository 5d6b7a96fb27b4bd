// The web UI: Vite's build in web/dist. Its hashed assets never change, so browsers keep
// them; index.html is revalidated, so a new build reaches people at their next load.
// Any other GET that names no file and is not one of the server's own paths gets
// index.html: the app routes /{owner}/{name}/{number} (the link in commit statuses) itself.
import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { HttpError } from './errors.ts';

/** Paths the server answers itself; the app never claims them, so a typo there stays a JSON 404. */
export const SERVER_PATHS = /^\/(api|rpc|hook|login|logout|healthz)(\/|$)/;

export function webUiRouter(distDir: string): Router {
  const router = Router();
  const indexFile = path.join(distDir, 'index.html');
  router.use(
    express.static(distDir, {
      index: false,
      setHeaders(res, file) {
        const immutable = file.startsWith(path.join(distDir, 'assets') + path.sep);
        res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  router.get(/.*/, (req, res, next) => {
    if (SERVER_PATHS.test(req.path) || req.path.startsWith('/assets/')) return next();
    if (!fs.existsSync(indexFile)) {
      return next(new HttpError(503, `the web UI is not built (no ${indexFile}): run \`npm run build\`, which builds it into web/dist`));
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(indexFile);
  });
  return router;
}
