// Who is signed in and what the server offers (providers, version), for every page.
import { createContext, useContext } from 'react';
import type { SystemInfo, User } from './api/types.ts';

export interface Session {
  user: User;
  /** Undefined while /api/system is unknown (an older server): pages then assume defaults. */
  system?: SystemInfo;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

/** The public base URL for links people copy (badges): the server's HARRIER_HOST, else this page's origin. */
export function publicHost(session: Session): string {
  return (session.system?.host || location.origin).replace(/\/$/, '');
}

const RETURN_KEY = 'harrier.returnTo';

/** Sign-in always comes back to /; remember where the person was going. */
export function rememberReturnPath(): void {
  const here = location.pathname + location.search + location.hash;
  if (here !== '/') sessionStorage.setItem(RETURN_KEY, here);
}

export function takeReturnPath(): string | null {
  const p = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  return p && p.startsWith('/') && !p.startsWith('//') ? p : null;
}

export function useTitle(title: string): void {
  document.title = title ? `${title} · Harrier` : 'Harrier';
}
