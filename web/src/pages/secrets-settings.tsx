// Secrets of a repository or of an organisation: names and whether pull requests may
// read them. Values are write-only: they go to the server and never come back, so
// updating one means typing it again.
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, api, messageOf } from '../api/client.ts';
import type { SecretInfo } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { ErrorNotice, Loading } from '../components/common.tsx';

/** The server's rule (Drone's): what from_secret can name unquoted. */
const NAME = /^[A-Za-z0-9_.-]+$/;

export interface SecretsSectionProps {
  /** The collection's API path: /api/repos/{owner}/{name}/secrets or /api/secrets/{namespace}. */
  base: string;
  /** Added to every call, e.g. "?provider=github". */
  query?: string;
  heading: string;
  /** What the secrets are for, under the heading. */
  children: ReactNode;
  onChanged: (message: string) => void;
}

export function SecretsSection({ base, query = '', heading, children, onChanged }: SecretsSectionProps) {
  const url = (name?: string) => `${base}${name === undefined ? '' : `/${encodeURIComponent(name)}`}${query}`;
  const secrets = useApi<SecretInfo[]>(url());
  const [editing, setEditing] = useState<string | null>(null);
  const unavailable = secrets.error instanceof ApiError && [403, 404, 503].includes(secrets.error.status);

  const save = async (s: { name: string; data?: string; pull_request: boolean }, isNew: boolean) => {
    const patch = s.data ? { data: s.data, pull_request: s.pull_request } : { pull_request: s.pull_request };
    await api(isNew ? url() : url(s.name), { method: isNew ? 'POST' : 'PATCH', body: isNew ? s : patch });
    await secrets.reload();
    setEditing(null);
    onChanged(`Secret ${s.name} ${isNew ? 'added' : 'updated'}`);
  };
  const remove = async (name: string) => {
    if (!confirm(`Delete the secret ${name}? Pipelines that use it will no longer get it.`)) return;
    await api(url(name), { method: 'DELETE' });
    await secrets.reload();
    onChanged(`Secret ${name} deleted`);
  };

  return (
    <section className="card settings-card" aria-labelledby="secrets-head">
      <h2 id="secrets-head">{heading}</h2>
      <p className="hint">{children}</p>
      {unavailable ? (
        <p className="notice" role="note">
          {messageOf(secrets.error)}
        </p>
      ) : (
        <>
          <ErrorNotice error={secrets.error} />
          {!secrets.data ? (
            secrets.loading && <Loading what="secrets" />
          ) : secrets.data.length === 0 ? (
            <p className="muted">No secrets yet.</p>
          ) : (
            <ul className="secret-list" aria-label="Secrets">
              {secrets.data.map((s) =>
                editing === s.name ? (
                  <li key={s.name}>
                    <SecretForm initial={s} onSave={(v) => save(v, false)} onCancel={() => setEditing(null)} />
                  </li>
                ) : (
                  <li key={s.name} className="secret-row">
                    <code className="secret-name">{s.name}</code>
                    {s.pull_request ? <span className="tag">fork pull requests too</span> : <span className="tag">not for fork pull requests</span>}
                    <span className="spacer" />
                    <button type="button" className="btn btn-small" onClick={() => setEditing(s.name)} aria-label={`Update ${s.name}`}>
                      Update
                    </button>
                    <DeleteButton name={s.name} onDelete={remove} />
                  </li>
                ),
              )}
            </ul>
          )}
          {editing === '' ? (
            <SecretForm onSave={(v) => save(v, true)} onCancel={() => setEditing(null)} />
          ) : (
            <button type="button" className="btn" onClick={() => setEditing('')}>
              Add a secret
            </button>
          )}
        </>
      )}
    </section>
  );
}

function DeleteButton({ name, onDelete }: { name: string; onDelete: (name: string) => Promise<void> }) {
  const [error, setError] = useState('');
  return (
    <>
      <button type="button" className="btn btn-small btn-danger-quiet" aria-label={`Delete ${name}`} onClick={() => onDelete(name).catch((e) => setError(messageOf(e)))}>
        Delete
      </button>
      {error && (
        <span className="row-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

function SecretForm({ initial, onSave, onCancel }: { initial?: SecretInfo; onSave: (s: { name: string; data?: string; pull_request: boolean }) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState(initial?.name ?? '');
  const [data, setData] = useState('');
  const [pr, setPr] = useState(initial?.pull_request ?? false);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const isNew = !initial;
  const nameOk = NAME.test(name);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      await onSave({ name, data: data || undefined, pull_request: pr });
    } catch (error) {
      setState({ error });
    }
  };
  const id = initial ? `secret-${initial.name}` : 'secret-new';
  return (
    <form className="secret-form" onSubmit={submit} aria-label={isNew ? 'New secret' : `Update ${name}`}>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} readOnly={!isNew} required spellCheck={false} autoComplete="off" />
        {isNew && name && !nameOk && <p className="hint hint-error">Letters, digits, dots, dashes and underscores only.</p>}
      </div>
      <div className="field">
        <label htmlFor={`${id}-value`}>{isNew ? 'Value' : 'New value (leave empty to keep the current one)'}</label>
        <textarea id={`${id}-value`} className="mono" rows={3} value={data} onChange={(e) => setData(e.target.value)} required={isNew} spellCheck={false} autoComplete="off" />
      </div>
      <div className="check">
        <input id={`${id}-pr`} type="checkbox" checked={pr} onChange={(e) => setPr(e.target.checked)} />
        <label htmlFor={`${id}-pr`}>Available to pull requests from forks</label>
        <p className="hint">Pull requests from forks run code you have not reviewed; allow only secrets that are safe to leak.</p>
      </div>
      <ErrorNotice error={state.error} />
      <div className="form-foot">
        <button type="submit" className="btn btn-primary" disabled={state.busy || (isNew && (!nameOk || !data))}>
          {state.busy ? 'Saving…' : isNew ? 'Add secret' : 'Save'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
