// What the authentication and repository middlewares attach to a request.
import type { Provider } from '../../core/domain.ts';
import type { User as UserRow, Repo as RepoRow, Perm as PermRow } from '../db/generated/sqlite/client.ts';

export type { UserRow, RepoRow, PermRow };

declare global {
  // Express's own extension point for request properties.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The signed-in user, from the session cookie or a Bearer token. */
      user?: UserRow;
      /** How the user was authenticated: a session cookie needs CSRF protection, a token does not. */
      authMethod?: 'session' | 'token';
      /** The repository named by :owner/:name, once access to it was checked. */
      repo?: RepoRow;
      /** The namespace named by /api/secrets/:namespace, once the caller was found to administer it. */
      org?: { provider: Provider; namespace: string };
      /** The user's permission on req.repo. */
      perm?: { read: boolean; write: boolean; admin: boolean };
    }
  }
}
