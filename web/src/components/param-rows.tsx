// Build parameters as key/value rows: a manual build's and a promotion's. They reach
// steps as variables, so the server takes only variable names; the form says so first.
import { useState } from 'react';

export interface ParamRow {
  id: number;
  name: string;
  value: string;
}

/** The server's rule (server/api/build-params.ts). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

let nextId = 1;
const emptyRow = (): ParamRow => ({ id: nextId++, name: '', value: '' });

export function useParamRows() {
  return useState<ParamRow[]>(() => [emptyRow()]);
}

/** Why the rows cannot be sent, or '' when they can. Rows without a name are left out; `reserved` names the endpoint reads itself. */
export function paramProblem(rows: ParamRow[], reserved: readonly string[]): string {
  const named = rows.filter((r) => r.name !== '');
  const bad = named.find((r) => !NAME.test(r.name));
  if (bad) return `${bad.name}: letters, digits and _ only, not starting with a digit`;
  const taken = named.find((r) => reserved.includes(r.name));
  if (taken) return `${taken.name} is not a parameter here: the form's own field sets it`;
  const seen = new Set<string>();
  for (const r of named) {
    if (seen.has(r.name)) return `${r.name} is given twice`;
    seen.add(r.name);
  }
  return '';
}

/** The query string of the rows with a name, after `fixed` (e.g. branch, target). */
export function paramQuery(fixed: Record<string, string>, rows: ParamRow[]): string {
  const q = new URLSearchParams(Object.entries(fixed).filter(([, v]) => v !== ''));
  for (const r of rows) if (r.name !== '') q.append(r.name, r.value);
  const text = q.toString();
  return text ? `?${text}` : '';
}

export function ParamRows({ rows, setRows, idPrefix }: { rows: ParamRow[]; setRows: (f: (rows: ParamRow[]) => ParamRow[]) => void; idPrefix: string }) {
  const change = (id: number, patch: Partial<ParamRow>) => setRows((all) => all.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  return (
    <fieldset className="param-rows">
      <legend>Parameters</legend>
      <p className="hint">Each step gets them as variables, and the pipeline file can use them as {'${NAME}'}.</p>
      {rows.map((r, i) => (
        <div className="param-row" key={r.id}>
          <input aria-label={`Parameter ${i + 1} name`} id={`${idPrefix}-name-${i}`} placeholder="NAME" className="mono" value={r.name} spellCheck={false} autoComplete="off" onChange={(e) => change(r.id, { name: e.target.value })} />
          <span aria-hidden="true">=</span>
          <input aria-label={`Parameter ${i + 1} value`} placeholder="value" className="mono" value={r.value} spellCheck={false} autoComplete="off" onChange={(e) => change(r.id, { value: e.target.value })} />
          <button type="button" className="btn btn-small btn-danger-quiet" aria-label={`Remove parameter ${i + 1}`} onClick={() => setRows((all) => (all.length > 1 ? all.filter((x) => x.id !== r.id) : [emptyRow()]))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-small" onClick={() => setRows((all) => [...all, emptyRow()])}>
        Add a parameter
      </button>
    </fieldset>
  );
}
