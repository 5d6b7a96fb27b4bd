// Loads one API resource for a component: keeps the last good answer while reloading,
// drops answers for a path the component no longer shows.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from './client.ts';
import { takePrefetched } from './prefetch.ts';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Fetches again; resolves when the new answer is in. */
  reload(): Promise<void>;
  /** Replaces the data locally (after a PATCH answered with the new state, or a live event). */
  setData(update: T | ((old: T | undefined) => T | undefined)): void;
}

export function useApi<T>(path: string | null): Resource<T> {
  const [state, setState] = useState<{ path: string | null; data?: T; error?: unknown; loading: boolean }>({
    path,
    loading: path !== null,
  });
  const current = useRef(path);
  current.current = path;

  const load = useCallback(async (p: string | null, signal?: AbortSignal) => {
    if (p === null) return;
    setState((s) => ({ ...s, path: p, loading: true }));
    try {
      const data = await (takePrefetched<T>(p) ?? api<T>(p, { signal }));
      if (current.current === p) setState({ path: p, data, loading: false });
    } catch (error) {
      if (signal?.aborted) return;
      if (current.current === p) setState((s) => ({ path: p, data: s.path === p ? s.data : undefined, error, loading: false }));
    }
  }, []);

  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => (s.path === path ? s : { path, loading: path !== null }));
    void load(path, ctl.signal);
    return () => ctl.abort();
  }, [path, load]);

  const reload = useCallback(() => load(current.current), [load]);
  const setData = useCallback((update: T | ((old: T | undefined) => T | undefined)) => {
    setState((s) => ({
      ...s,
      data: typeof update === 'function' ? (update as (old: T | undefined) => T | undefined)(s.data) : update,
    }));
  }, []);

  const fresh = state.path === path;
  return { data: fresh ? state.data : undefined, error: fresh ? state.error : undefined, loading: !fresh || state.loading, reload, setData };
}
