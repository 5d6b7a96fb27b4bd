// Every route the server's Express app answers, read from the app itself, so a test can
// fail when a route appears that it does not know about. Express 5's router lists the
// routes and mounted routers of each router (Router#listRoutes, router 2.3); mounted
// routers are walked with their mount path. Plain middleware (authentication, body
// parsers, express.static, the 404 handlers) is not a route and is not listed.
import type express from 'express';

export interface AppRoute {
  /** GET, POST, …, or `*` for router.all(); the automatic HEAD of a GET is left out. */
  method: string;
  /** The path as registered, mount paths joined: `/api/repos/:owner/:name`; a RegExp route as String(regexp), e.g. the web UI's catch-all. */
  path: string;
}

interface ListedRoute {
  path: string | RegExp;
  methods?: string[];
  router?: ListingRouter;
}

interface ListingRouter {
  listRoutes(): ListedRoute[];
}

export function appRoutes(app: express.Express): AppRoute[] {
  const root = (app as unknown as { router: ListingRouter }).router;
  if (typeof root?.listRoutes !== 'function') {
    throw new Error('app.router.listRoutes is missing: this walk needs Express 5 with router >= 2.3; update test/support/app-routes.ts for the Express in use');
  }
  const routes: AppRoute[] = [];
  const walk = (router: ListingRouter, prefix: string) => {
    for (const listed of router.listRoutes()) {
      const path = listed.path instanceof RegExp ? String(listed.path) : joinPath(prefix, listed.path);
      if (listed.router) {
        // A router mounted at the root (app.use(router)) adds nothing to its routes' paths.
        walk(listed.router, path === '/' ? '' : path);
        continue;
      }
      const methods = listed.methods ?? [];
      // listRoutes adds HEAD to every GET route that does not register HEAD itself.
      const own = methods.filter((m) => m !== 'HEAD' || !methods.includes('GET'));
      for (const method of own) routes.push({ method, path });
    }
  };
  walk(root, '');
  return routes;
}

function joinPath(prefix: string, path: string): string {
  if (path === '/' || path === '') return prefix || '/';
  return `${prefix}${path}`;
}
