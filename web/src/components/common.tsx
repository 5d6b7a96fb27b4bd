// Small pieces every page uses: empty states, error notices, avatars, a loading line.
import { useState, type ReactNode } from 'react';
import { messageOf } from '../api/client.ts';

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty-state">
      <h2>{title}</h2>
      {children && <div className="empty-body">{children}</div>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert">
      {title && <strong>{title}: </strong>}
      {messageOf(error)}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Avatar({ src, name, size = 20 }: { src?: string; name: string; size?: number }) {
  // An avatar host that does not answer (a closed network, a deleted account) shows the initial instead.
  const [broken, setBroken] = useState(false);
  if (!src || broken) {
    return (
      <span className="avatar avatar-initial" style={{ width: size, height: size, fontSize: size * 0.55 }} aria-hidden="true">
        {(name || '?').slice(0, 1).toUpperCase()}
      </span>
    );
  }
  return <img className="avatar" src={src} alt="" width={size} height={size} loading="lazy" referrerPolicy="no-referrer" onError={() => setBroken(true)} />;
}

/** Screen readers hear changes put here (build finished, settings saved) without moving focus. */
export function LiveRegion({ message }: { message: string }) {
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true">
      {message}
    </div>
  );
}
