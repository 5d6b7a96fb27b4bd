// Harrier's users, for administrators: who has signed in, who administers, who is
// blocked. Blocking ends the user's sessions and refuses their personal tokens at
// once; the server refuses any change that would leave no active administrator.
import { useState } from 'react';
import { api, messageOf } from '../api/client.ts';
import type { User } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { Avatar, ErrorNotice, Loading } from '../components/common.tsx';
import { Ago } from '../components/time.tsx';
import { providerName } from '../providers.ts';
import { useSession, useTitle } from '../session.tsx';

export function UsersPage() {
  useTitle('Users');
  const { user: me } = useSession();
  const users = useApi<User[]>(me.admin ? '/api/users' : null);
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState('');

  if (!me.admin) {
    return (
      <div className="page narrow">
        <h1>Users</h1>
        <p>Only administrators of this Harrier manage its users. Ask one of them if someone should be blocked or promoted.</p>
      </div>
    );
  }

  const change = async (u: User, patch: { admin?: boolean; active?: boolean }, question?: string) => {
    if (question && !confirm(question)) return;
    setBusy(`${u.provider}:${u.login}`);
    setProblem('');
    try {
      const saved = await api<User>(`/api/users/${encodeURIComponent(u.login)}?provider=${u.provider}`, { method: 'PATCH', body: patch });
      users.setData((list) => list?.map((x) => (x.id === saved.id ? saved : x)));
    } catch (err) {
      setProblem(messageOf(err));
    } finally {
      setBusy('');
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>Users</h1>
      </div>
      <p className="hint page-intro">
        Everyone who has signed in. Administrators may mark repositories trusted and manage users and runner tokens. Blocking someone ends their sessions and refuses their
        personal tokens at once; they cannot sign in again until unblocked.
      </p>
      {problem && (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      )}
      <ErrorNotice title="Could not list the users" error={users.error} />
      {!users.data ? (
        users.loading && <Loading what="users" />
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Users">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => {
                const key = `${u.provider}:${u.login}`;
                const self = u.id === me.id;
                return (
                  <tr key={key} data-login={u.login}>
                    <td>
                      <span className="user-cell">
                        <Avatar src={u.avatar} name={u.login} size={24} />
                        <strong>{u.login}</strong>
                      </span>
                      <div className="small muted">
                        {providerName(u.provider)}
                        {u.email ? ` · ${u.email}` : ''}
                        {self ? ' · you' : ''}
                      </div>
                    </td>
                    <td>
                      {u.admin && <span className="tag tag-ok">administrator</span>}
                      {!u.active && <span className="tag tag-bad">blocked</span>}
                      {!u.admin && u.active && <span className="muted">user</span>}
                    </td>
                    <td>{u.last_login ? <Ago unix={u.last_login} /> : <span className="muted">never</span>}</td>
                    <td>
                      <div className="row-actions">
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={busy === key}
                          onClick={() => void change(u, { admin: !u.admin }, u.admin && self ? 'Stop being an administrator? You cannot undo this yourself.' : undefined)}
                          aria-label={`${u.admin ? 'Demote' : 'Promote'} ${u.login}`}
                        >
                          {u.admin ? 'Demote' : 'Make administrator'}
                        </button>
                        <button
                          type="button"
                          className={`btn btn-small${u.active ? ' btn-danger-quiet' : ''}`}
                          disabled={busy === key}
                          onClick={() =>
                            void change(u, { active: !u.active }, u.active ? `Block ${u.login}? Their sessions end and their personal tokens stop working now.` : undefined)
                          }
                          aria-label={`${u.active ? 'Block' : 'Unblock'} ${u.login}`}
                        >
                          {u.active ? 'Block' : 'Unblock'}
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
