// A Bitbucket commit and the account of its author, as both its deliveries and its REST API
// (commit/{hash}, refs/branches/{name} `target`) carry them, translated to Harrier's Commit.
import { z } from 'zod';
import type { Commit, CommitAuthor } from '../../../core/domain.ts';
import { unixSeconds } from '../hook-delivery.ts';

export const Link = z.object({ href: z.string() });

export const Account = z.object({
  username: z.string().nullish(),
  nickname: z.string().nullish(),
  display_name: z.string().nullish(),
  account_id: z.string().nullish(),
  uuid: z.string().nullish(),
  links: z.object({ avatar: Link.nullish() }).nullish(),
});

export const BitbucketCommit = z.object({
  hash: z.string(),
  message: z.string().nullish(),
  date: z.string().nullish(),
  author: z.object({ raw: z.string().nullish(), user: Account.nullish() }).nullish(),
  links: z.object({ html: Link.nullish() }).nullish(),
});

/** Bitbucket dropped usernames from payloads (GDPR); the nickname took their place. */
export function login(account: z.output<typeof Account> | null | undefined): string {
  return account?.username || account?.nickname || account?.display_name || account?.account_id || '';
}

/** Name and email from git's "Name <email>"; the account only when Bitbucket links the email to one. */
export function commitAuthor(commit: z.output<typeof BitbucketCommit>): CommitAuthor {
  const raw = commit.author?.raw ?? '';
  const m = /^\s*(.*?)\s*<([^>]*)>\s*$/.exec(raw);
  const user = commit.author?.user;
  return {
    login: login(user),
    name: m ? m[1] : raw.trim() || (user?.display_name ?? ''),
    email: m ? m[2] : '',
    avatar: user?.links?.avatar?.href ?? '',
  };
}

/** `repoLink` makes the link when the commit carries none (deliveries of old have left it out). */
export function toCommit(commit: z.output<typeof BitbucketCommit>, repoLink: string): Commit {
  return {
    sha: commit.hash,
    message: commit.message ?? '',
    link: commit.links?.html?.href ?? `${repoLink}/commits/${commit.hash}`,
    timestamp: unixSeconds(commit.date),
    author: commitAuthor(commit),
  };
}
