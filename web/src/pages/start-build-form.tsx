// Starting a build by hand: a manual build of a branch (builds page) or a promotion or
// rollback of a build (build page). One field (branch or target), parameter rows, and
// one button per endpoint; the new build opens once the server has made it.
import { useState, type FormEvent } from 'react';
import { api, repoPath } from '../api/client.ts';
import type { Build } from '../api/types.ts';
import { ErrorNotice } from '../components/common.tsx';
import { paramProblem, paramQuery, ParamRows, useParamRows } from '../components/param-rows.tsx';
import { navigate, repoUrl } from '../router.tsx';

export interface StartAction {
  label: string;
  busyLabel: string;
  /** Under /api/repos/{owner}/{name}: `/builds`, `/builds/7/promote`. */
  path: string;
}

export interface StartField {
  /** The query parameter it sets: branch, target. */
  name: string;
  label: string;
  initial: string;
  required: boolean;
  hint: string;
}

export function StartBuildForm({ slug, title, field, actions, onCancel }: { slug: string; title: string; field: StartField; actions: StartAction[]; onCancel: () => void }) {
  const [value, setValue] = useState(field.initial);
  const [rows, setRows] = useParamRows();
  const [state, setState] = useState<{ busy?: string; error?: unknown }>({});
  const problem = paramProblem(rows, [field.name, 'access_token', 'commit', 'branch', 'target']);
  const ready = !state.busy && !problem && (!field.required || value.trim() !== '');

  const start = async (action: StartAction) => {
    setState({ busy: action.label });
    try {
      const build = await api<Build>(`/api/repos/${repoPath(slug)}${action.path}${paramQuery({ [field.name]: value.trim() }, rows)}`, { method: 'POST' });
      navigate(repoUrl(slug, `/${build.number}`));
    } catch (error) {
      setState({ error });
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ready) void start(actions[0]);
  };

  const id = `start-${field.name}`;
  return (
    <form className="card settings-card start-build-form" aria-label={title} onSubmit={submit}>
      <h2>{title}</h2>
      <div className="field">
        <label htmlFor={id}>{field.label}</label>
        <input id={id} value={value} onChange={(e) => setValue(e.target.value)} required={field.required} spellCheck={false} autoComplete="off" />
        <p className="hint">{field.hint}</p>
      </div>
      <ParamRows rows={rows} setRows={setRows} idPrefix={id} />
      {problem && (
        <p className="hint hint-error" role="alert">
          {problem}
        </p>
      )}
      <ErrorNotice error={state.error} />
      <div className="form-foot">
        {actions.map((a, i) => (
          <button
            key={a.path}
            type={i === 0 ? 'submit' : 'button'}
            className={i === 0 ? 'btn btn-primary' : 'btn'}
            disabled={!ready}
            onClick={i === 0 ? undefined : () => void start(a)}
          >
            {state.busy === a.label ? a.busyLabel : a.label}
          </button>
        ))}
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
