// Credentials the server keeps so it can act later: a user's provider OAuth token and
// refresh token, and each repository's webhook secret. They are sealed with the same
// key as repository secrets (HARRIER_DATABASE_SECRET, see secret-box.ts), each bound
// to its row, so a copy of the database hands out no provider access and a value
// moved onto another row does not open there. Every read and write of User.token,
// User.refresh and Repo.hookSecret goes through this module.
//
// An empty value stays empty: it means "none", and says nothing an attacker could use.
import type { Logger } from '../../core/log.ts';
import type { ServerConfig } from '../config.ts';
import type { Db } from '../db/client.ts';
import { SecretBox, secretBoxFor } from './secret-box.ts';

export type CredentialKind = 'user-token' | 'user-refresh' | 'hook-secret';

/** The additional data binding a credential to its row: "user-token:<user id>", "hook-secret:<repo id>". */
export function credentialContext(kind: CredentialKind, rowId: number): string {
  return `${kind}:${rowId}`;
}

export const NO_KEY_MESSAGE =
  'HARRIER_DATABASE_SECRET is not set, and Harrier keeps provider tokens and webhook secrets only encrypted: ' +
  'set it to 32 random bytes, e.g. HARRIER_DATABASE_SECRET=$(openssl rand -hex 32), keep it with your backups, and restart the server ' +
  '(`harrier up` makes one for you in its data folder)';

/** The installation's box; throws with how to set the key when there is none. */
export function credentialBox(config: Pick<ServerConfig, 'databaseSecret'>): SecretBox {
  const box = secretBoxFor(config.databaseSecret);
  if (!box) throw new Error(NO_KEY_MESSAGE);
  return box;
}

type Keyed = Pick<ServerConfig, 'databaseSecret'>;

export function sealCredential(config: Keyed, kind: CredentialKind, rowId: number, value: string): string {
  return value ? credentialBox(config).seal(value, credentialContext(kind, rowId)) : '';
}

/** The plain value; throws SecretBoxError when the stored one is not sealed for this row with this key. */
export function openCredential(config: Keyed, kind: CredentialKind, rowId: number, stored: string): string {
  return stored ? credentialBox(config).open(stored, credentialContext(kind, rowId)) : '';
}

/** What to write into a User row for a provider token and its refresh token. */
export function sealedUserTokens(config: Keyed, userId: number, tokens: { token: string; refresh: string }): { token: string; refresh: string } {
  return {
    token: sealCredential(config, 'user-token', userId, tokens.token),
    refresh: sealCredential(config, 'user-refresh', userId, tokens.refresh),
  };
}

/** The user's provider token and refresh token in the clear. */
export function userTokens(config: Keyed, user: { id: number; token: string; refresh: string }): { token: string; refresh: string } {
  return {
    token: openCredential(config, 'user-token', user.id, user.token),
    refresh: openCredential(config, 'user-refresh', user.id, user.refresh),
  };
}

export function sealHookSecret(config: Keyed, repoId: number, secret: string): string {
  return sealCredential(config, 'hook-secret', repoId, secret);
}

/** The repository's webhook secret in the clear, '' when it has none. */
export function hookSecretOf(config: Keyed, repo: { id: number; hookSecret: string }): string {
  return openCredential(config, 'hook-secret', repo.id, repo.hookSecret);
}

/** Sealed values start with the box's version tag; anything else was written before encryption. */
function isPlain(value: string): boolean {
  return value !== '' && !value.startsWith('v1:');
}

export interface EncryptResult {
  users: number;
  repos: number;
}

/**
 * Seals the credentials still stored in the clear (rows written before this version).
 * Idempotent, and safe with several servers starting at once: each row is updated only
 * while it still holds the plain value that was read.
 */
export async function encryptStoredCredentials(db: Db, config: Keyed, logger?: Logger): Promise<EncryptResult> {
  const result: EncryptResult = { users: 0, repos: 0 };
  const users = await db.user.findMany({
    where: { OR: [{ token: { not: '' } }, { refresh: { not: '' } }] },
    select: { id: true, token: true, refresh: true },
  });
  for (const u of users) {
    if (!isPlain(u.token) && !isPlain(u.refresh)) continue;
    const data = {
      token: isPlain(u.token) ? sealCredential(config, 'user-token', u.id, u.token) : u.token,
      refresh: isPlain(u.refresh) ? sealCredential(config, 'user-refresh', u.id, u.refresh) : u.refresh,
    };
    const { count } = await db.user.updateMany({ where: { id: u.id, token: u.token, refresh: u.refresh }, data });
    result.users += count;
  }
  const repos = await db.repo.findMany({ where: { hookSecret: { not: '' } }, select: { id: true, hookSecret: true } });
  for (const r of repos) {
    if (!isPlain(r.hookSecret)) continue;
    const { count } = await db.repo.updateMany({
      where: { id: r.id, hookSecret: r.hookSecret },
      data: { hookSecret: sealHookSecret(config, r.id, r.hookSecret) },
    });
    result.repos += count;
  }
  if (result.users || result.repos) {
    logger?.info({ event: 'credentials_encrypted', users: result.users, repos: result.repos }, 'encrypted provider tokens and webhook secrets stored in the clear');
  }
  return result;
}
