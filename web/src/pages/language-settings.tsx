// Language settings: the language Harrier detected, the pipeline it proposes for it
// (editable), and whether the repository's own pipeline file makes the proposal moot.
import { useRef, useState } from 'react';
import { ApiError, api, messageOf, repoPath } from '../api/client.ts';
import type { LanguageSettings } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { ErrorNotice, Loading } from '../components/common.tsx';

/** `.drone.yml:3:5 message` lines from a 400, with where they point. */
export function pipelineErrors(message: string): { text: string; line?: number; col?: number }[] {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((text) => {
      const m = /^[^\s:]*:(\d+):(\d+)/.exec(text);
      return m ? { text, line: Number(m[1]), col: Number(m[2]) } : { text };
    });
}

export function LanguageSettingsSection({ slug, onSaved }: { slug: string; onSaved: () => void }) {
  const path = `/api/repos/${repoPath(slug)}/language`;
  const res = useApi<LanguageSettings>(path);
  const [draft, setDraft] = useState<string | null>(null);
  const [state, setState] = useState<{ busy?: string; error?: unknown; problems?: ReturnType<typeof pipelineErrors>; saved?: boolean }>({});
  const editor = useRef<HTMLTextAreaElement>(null);
  const s = res.data;

  const call = async (what: string, init: { method: 'PATCH' | 'POST'; body?: unknown }, url = path) => {
    setState({ busy: what });
    try {
      const next = await api<LanguageSettings>(url, init);
      res.setData(next);
      setDraft(null);
      setState({ saved: true });
      onSaved();
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && /:\d+:\d+/.test(error.message)) {
        setState({ problems: pipelineErrors(error.message) });
      } else setState({ error });
    }
  };

  const goTo = (line: number, col = 1) => {
    const el = editor.current;
    if (!el) return;
    const lines = el.value.split('\n');
    const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, col - 1);
    el.focus();
    el.setSelectionRange(offset, offset);
    el.scrollTop = Math.max(0, (line - 3) * 19);
  };

  if (res.error instanceof ApiError && (res.error.status === 404 || res.error.status === 501)) {
    return (
      <section className="card settings-card" aria-labelledby="language-head">
        <h2 id="language-head">Language</h2>
        <p className="muted">{messageOf(res.error)}</p>
      </section>
    );
  }

  const text = draft ?? s?.proposal ?? '';
  const nameOf = (id: string) => s?.languages.find((l) => l.id === id)?.name ?? id;
  const busy = !!state.busy;
  return (
    <section className="card settings-card" aria-labelledby="language-head">
      <h2 id="language-head">Language</h2>
      <ErrorNotice error={res.error} />
      {!s ? (
        res.loading && <Loading what="language settings" />
      ) : (
        <>
          <p className="detected">
            {s.detected && s.detected !== 'generic' ? (
              <>
                Detected: <strong data-testid="detected-language">{nameOf(s.detected)}</strong>
              </>
            ) : (
              'No language detected from the repository’s files: choose one below.'
            )}{' '}
            <button type="button" className="btn btn-small" disabled={busy} onClick={() => call('detect', { method: 'POST' }, `${path}/detect`)}>
              {state.busy === 'detect' ? 'Detecting…' : 'Detect again'}
            </button>
          </p>
          {s.has_config ? (
            <p className="notice notice-info" role="note">
              <strong>
                <code>{s.config_path}</code> is in the repository, so the file wins:
              </strong>{' '}
              builds run it. The pipeline below is used only for commits that have no <code>{s.config_path}</code>.
            </p>
          ) : (
            <p className="notice" role="note">
              The repository has no <code>{s.config_path}</code>, so builds run the pipeline below. Commit a <code>{s.config_path}</code> to take over.
            </p>
          )}
          <div className="field">
            <label htmlFor="language">Language</label>
            <select
              id="language"
              value={s.language}
              disabled={busy}
              onChange={(e) => {
                if (draft !== null && !confirm('Changing the language replaces the proposed pipeline and drops your unsaved edits. Go on?')) return;
                void call('language', { method: 'PATCH', body: { language: e.target.value } });
              }}
            >
              {!s.languages.some((l) => l.id === s.language) && <option value={s.language}>{s.language || 'none'}</option>}
              {s.languages.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="proposal">Proposed pipeline</label>
            <div className="editor-wrap">
              <textarea
                id="proposal"
                ref={editor}
                className="editor"
                value={text}
                spellCheck={false}
                rows={Math.min(28, Math.max(8, text.split('\n').length + 1))}
                onChange={(e) => {
                  setDraft(e.target.value);
                  setState({});
                }}
                aria-invalid={state.problems ? true : undefined}
                aria-describedby={state.problems ? 'proposal-problems' : undefined}
              />
              {state.problems && (
                <div role="alert">
                <ul className="problems" id="proposal-problems" aria-label="Pipeline problems">
                  {state.problems.map((p, i) => (
                    <li key={i}>
                      {p.line ? (
                        <button type="button" className="link-button" onClick={() => goTo(p.line!, p.col)}>
                          {p.text}
                        </button>
                      ) : (
                        p.text
                      )}
                    </li>
                  ))}
                </ul>
                </div>
              )}
            </div>
          </div>
          {!text.trim() && (
            <p className="hint">No proposed pipeline: commits without {s.config_path} do not build. Choose a language, or write one.</p>
          )}
          <ErrorNotice error={state.error} />
          <div className="form-foot">
            <button type="button" className="btn btn-primary" disabled={busy || draft === null || draft === s.proposal} onClick={() => call('proposal', { method: 'PATCH', body: { proposal: text } })}>
              {state.busy === 'proposal' ? 'Saving…' : 'Save pipeline'}
            </button>
            <button type="button" className="btn" disabled={busy || text === s.default_proposal} onClick={() => setDraft(s.default_proposal)}>
              Reset to the default for {nameOf(s.language)}
            </button>
            {draft !== null && draft !== s.proposal && <span className="muted small">Unsaved changes</span>}
            {state.saved && <span className="saved">Saved</span>}
          </div>
        </>
      )}
    </section>
  );
}
