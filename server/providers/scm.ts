// One small surface for every source-code provider. GitHub and Bitbucket Cloud
// implement it; nothing outside server/providers/ knows which one it talks to.
import type { Commit, HookRepo, Netrc, Permission, Provider } from '../../core/domain.ts';

export interface ScmToken {
  access: string;
  refresh: string;
  /** Unix seconds; 0 when the token does not expire. */
  expires: number;
}

export interface ScmUser {
  id: string;
  login: string;
  email: string;
  avatar: string;
}

/** A repository as the provider's API lists it: what a delivery says of it, plus visibility and the caller's permission. */
export interface ScmRepo extends HookRepo {
  visibility: 'public' | 'private' | 'internal';
  perm: Permission;
}

export type CommitState = 'pending' | 'running' | 'success' | 'failure' | 'error' | 'killed';

export interface CommitStatus {
  state: CommitState;
  /** Link to the build page. */
  link: string;
  description: string;
  /** e.g. continuous-integration/harrier/push */
  context: string;
}

/** What a build changed: a push from `before` to `after`, or a pull request as the provider diffs it. */
export type ChangeSet =
  /** `before` is empty or all zeros for a new branch: then the pushed commit's own changes count. */
  | { event: 'push'; before: string; after: string }
  | { event: 'pull_request'; number: number; after: string };

/** A branch by its name, or a commit by its hash (which may be abbreviated). */
export type CommitRef = { branch: string } | { sha: string };

/** An error answer from the provider's API, with enough to tell the user what went wrong. */
export class ScmError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly provider: Provider,
  ) {
    super(message);
  }
}

export interface Scm {
  readonly provider: Provider;
  /** Whether a client id and secret are configured, so sign-in can be offered. */
  readonly configured: boolean;
  /** The provider's authorize URL for the OAuth web flow. */
  authorizeUrl(state: string, redirectUri: string): string;
  /** Exchanges the OAuth code for a token. */
  exchange(code: string, redirectUri: string): Promise<ScmToken>;
  /**
   * Trades a refresh token for a new token. Added to the original surface because
   * Bitbucket Cloud access tokens expire after two hours (ScmToken.expires says when);
   * GitHub only issues refresh tokens when the app opts into expiring user tokens.
   */
  refresh(refreshToken: string): Promise<ScmToken>;
  user(token: string): Promise<ScmUser>;
  /**
   * The organisations (GitHub) or workspaces (Bitbucket) the user belongs to, by their
   * login or slug: HARRIER_USER_FILTER lets members of the ones it names sign in.
   */
  orgs(token: string): Promise<string[]>;
  /**
   * Whether the user administers the organisation (GitHub: membership role `admin`) or
   * workspace (Bitbucket: permission `owner`) named `org`: they manage its organisation
   * secrets. False when they are not a member or the provider does not know the name.
   */
  orgAdmin(token: string, org: string): Promise<boolean>;
  /** Every repository the user can access, with the user's permission on each. */
  repos(token: string): Promise<ScmRepo[]>;
  repo(token: string, slug: string): Promise<ScmRepo>;
  /**
   * The commit a branch points at, or a hash names, with its message, link and author (go-scm's
   * Git.FindCommit): null when there is no such branch (an empty repository has none) or commit.
   * One API call.
   */
  findCommit(token: string, slug: string, ref: CommitRef): Promise<Commit | null>;
  /**
   * The full hash of the commit `sha` names, which may be abbreviated (Bitbucket's pull request
   * deliveries carry 12 characters). One API call; throws ScmError (404) when there is no such commit.
   */
  commitHash(token: string, slug: string, sha: string): Promise<string>;
  /** The file's content at a commit, or null when the file does not exist there. */
  file(token: string, slug: string, sha: string, path: string): Promise<string | null>;
  /** Creates a webhook pointing at url, signed with secret; returns the provider's hook id. */
  createHook(token: string, slug: string, url: string, secret: string): Promise<string>;
  deleteHook(token: string, slug: string, hookId: string): Promise<void>;
  status(token: string, slug: string, sha: string, status: CommitStatus): Promise<void>;
  /** Credentials git uses to clone the repository over http(s). */
  netrc(token: string, cloneUrl: string): Netrc;
  /**
   * Paths the change touched (both sides of a rename), for `paths` conditions. Undefined
   * when the provider cannot say in full: it caps the list (GitHub: 300 files for a compare
   * or a commit, 3000 for a pull request; Harrier stops Bitbucket's pages at 3000 too), so a
   * `paths` condition matches and nothing is skipped on a partial list. Throws ScmError when
   * the provider refuses; callers treat that as unknown too.
   */
  changedFiles(token: string, slug: string, change: ChangeSet): Promise<string[] | undefined>;
}
