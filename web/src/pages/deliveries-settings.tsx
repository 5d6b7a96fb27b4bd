// The Deliveries tab of a repository's settings, as GitHub's "Recent Deliveries": each
// webhook delivery the server took for the repository and what became of it (built as
// #N, ignored and why, failed with the provider's error, or still being handled), with a
// Redeliver button. The list is polled while a delivery in view is still being handled,
// and only while the tab is open and the browser shows it.
import { useEffect, useState } from 'react';
import { ApiError, api, messageOf, repoPath } from '../api/client.ts';
import type { Delivery, DeliveryStatus } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { EmptyState, ErrorNotice, Loading } from '../components/common.tsx';
import { StatusIcon } from '../components/status.tsx';
import { Ago } from '../components/time.tsx';
import { Link, repoUrl } from '../router.tsx';

/** The API's default page size, so a full page means there may be older ones. */
const PER_PAGE = 25;
/** How often the list is read again while a delivery in view is pending or running. */
const POLL_MS = 2_000;

/** The build status whose icon shows a delivery's state. */
const ICON: Record<DeliveryStatus, string> = { pending: 'pending', running: 'running', built: 'success', ignored: 'skipped', failed: 'failure' };

const inHand = (d: Delivery) => d.status === 'pending' || d.status === 'running';

export function DeliveriesTab({ slug, onChanged }: { slug: string; onChanged: (message: string) => void }) {
  const base = `/api/repos/${repoPath(slug)}/deliveries`;
  const [page, setPage] = useState(1);
  const list = useApi<Delivery[]>(`${base}?page=${page}&per_page=${PER_PAGE}`);
  const [fresh, setFresh] = useState<number | null>(null);
  const forbidden = list.error instanceof ApiError && list.error.status === 403;

  usePollWhile(Boolean(list.data?.some(inHand)), list.reload, list.data, list.error);

  const redeliver = async (d: Delivery) => {
    const copy = await api<Delivery>(`${base}/${d.id}/redeliver`, { method: 'POST' });
    setFresh(copy.id);
    onChanged(`Delivery ${d.id} sent again as delivery ${copy.id}`);
    // The new delivery is the newest: it heads the first page.
    if (page !== 1) {
      setPage(1);
      return;
    }
    list.setData((old) => [copy, ...(old ?? []).filter((x) => x.id !== copy.id)].slice(0, PER_PAGE));
    await list.reload();
  };

  return (
    <section className="card settings-card" aria-labelledby="deliveries-head">
      <h2 id="deliveries-head">Recent deliveries</h2>
      <p className="hint deliveries-intro">
        Each webhook delivery the provider sent for {slug}, newest first, and what became of it. Redeliver handles a delivery again as if it had just
        arrived: a push builds its commit again.
      </p>
      {forbidden ? (
        <div className="notice notice-error" role="alert">
          <strong>Only admins of {slug} see its deliveries.</strong> A delivery holds what the provider shows the repository's admins; you need admin
          permission on {slug} at the provider.
          <p className="small">{messageOf(list.error)}</p>
        </div>
      ) : (
        <>
          <ErrorNotice title="Could not load the deliveries" error={list.error} />
          {!list.data ? (
            list.loading && <Loading what="deliveries" />
          ) : list.data.length === 0 ? (
            page === 1 ? (
              <EmptyState title="No deliveries yet">
                <p>Deliveries appear here when the provider sends the repository's webhook: push a commit or open a pull request.</p>
              </EmptyState>
            ) : (
              <p className="muted">No older deliveries.</p>
            )
          ) : (
            <ol className="card-list delivery-list" aria-label={`Deliveries of ${slug}`}>
              {list.data.map((d) => (
                <DeliveryRow key={d.id} slug={slug} delivery={d} fresh={d.id === fresh} onRedeliver={() => redeliver(d)} />
              ))}
            </ol>
          )}
          {list.data && (page > 1 || list.data.length >= PER_PAGE) && (
            <nav className="list-foot pager" aria-label="Pages of deliveries">
              <button type="button" className="btn" onClick={() => setPage((p) => p - 1)} disabled={page === 1 || list.loading}>
                Newer
              </button>
              <span className="muted small">Page {page}</span>
              <button type="button" className="btn" onClick={() => setPage((p) => p + 1)} disabled={list.data.length < PER_PAGE || list.loading}>
                Older
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

function DeliveryRow({ slug, delivery: d, fresh, onRedeliver }: { slug: string; delivery: Delivery; fresh: boolean; onRedeliver: () => Promise<void> }) {
  const [state, setState] = useState<{ busy?: boolean; error?: string }>({});
  const redeliver = async () => {
    setState({ busy: true });
    try {
      await onRedeliver();
      setState({});
    } catch (err) {
      setState({ error: messageOf(err) });
    }
  };
  return (
    <li className={`card-row delivery-row${fresh ? ' delivery-fresh' : ''}`} data-delivery={d.id} data-status={d.status}>
      <StatusIcon status={ICON[d.status] ?? d.status} size={20} label={false} />
      <div className="delivery-main">
        <div className="delivery-head">
          <span className="tag">{d.event}</span>
          {d.action && <span className="delivery-action">{d.action}</span>}
          <code className="delivery-guid" title="The delivery's id at the provider">
            {d.guid}
          </code>
        </div>
        <p className={`delivery-outcome outcome-${d.status}`}>
          <Outcome slug={slug} delivery={d} />
        </p>
        {d.redelivery_of && <span className="small muted">redelivery of delivery {d.redelivery_of}</span>}
      </div>
      <div className="build-times small muted">
        <Ago unix={d.created} />
        <span>delivery {d.id}</span>
      </div>
      <div className="row-actions">
        <button
          type="button"
          className="btn btn-small"
          onClick={redeliver}
          disabled={state.busy || inHand(d)}
          aria-label={`Redeliver delivery ${d.id}`}
          title={inHand(d) ? 'It is being handled; redeliver it once it is done' : 'Handle this delivery again as if it had just arrived'}
        >
          {state.busy ? 'Redelivering…' : 'Redeliver'}
        </button>
      </div>
      {state.error && (
        <p className="row-error" role="alert">
          {state.error}
        </p>
      )}
    </li>
  );
}

function Outcome({ slug, delivery: d }: { slug: string; delivery: Delivery }) {
  switch (d.status) {
    case 'built':
      return d.build ? (
        <>
          built as <Link to={repoUrl(slug, `/${d.build}`)}>#{d.build}</Link>
        </>
      ) : (
        <>built</>
      );
    case 'ignored':
      return <>ignored: {d.reason}</>;
    case 'failed':
      return <>failed: {d.reason}</>;
    case 'running':
      return <>running (attempt {d.attempts})</>;
    case 'pending':
      // A retry waiting for its turn says which attempt failed and why.
      return d.attempts && d.reason ? <>pending: {d.reason}</> : <>pending</>;
    default:
      return <>{`${d.status}${d.reason ? `: ${d.reason}` : ''}`}</>;
  }
}

/**
 * Calls `poll` POLL_MS after each answer (a new `data` or `error`) while `active`. Stops when
 * the component goes (the tab was left); a hidden browser tab is not polled, and is read
 * at once when shown again.
 */
function usePollWhile(active: boolean, poll: () => Promise<void>, data: unknown, error: unknown): void {
  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => {
      if (!document.hidden) void poll();
    }, POLL_MS);
    const onShown = () => {
      if (!document.hidden) void poll();
    };
    document.addEventListener('visibilitychange', onShown);
    return () => {
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onShown);
    };
  }, [active, poll, data, error]);
}
