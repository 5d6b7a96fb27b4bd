// The log viewer. Only the rows in view (plus a margin) are in the DOM, each at a fixed
// height, so 100,000 lines cost what 100 do; the buffer tells it about new lines once
// per frame. It follows the tail while the reader is at the bottom, stops when they
// scroll up, and starts again when they return. Line numbers are #L links.
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { parseLine, PLAIN, styleProps } from './ansi.ts';
import type { LogBuffer } from './log-buffer.ts';
import { countRows, findRow } from './log-search.ts';

/** Row height in px; the stylesheet's .log-line uses the same. */
export const ROW = 20;
const OVERSCAN = 25;
const NEEDS_PARSE = /[\x00-\x08\x0b-\x1f\x7f]/;

export interface LineRange {
  from: number;
  to: number;
}

export interface LogViewerProps {
  buffer: LogBuffer;
  label: string;
  /** The step may still print: follow the tail and offer to resume following. */
  live: boolean;
  emptyText: string;
  /** Highlighted lines (1-based), from the URL's #L42 or #L10-L20. */
  selection: LineRange | null;
  onSelect(range: LineRange): void;
  fileName: string;
  toolbar?: ReactNode;
}

function renderText(buffer: LogBuffer, i: number): ReactNode {
  const raw = buffer.out[i];
  const start = buffer.startStyle[i] ?? PLAIN;
  if (start === PLAIN && !NEEDS_PARSE.test(raw)) return raw;
  return parseLine(raw, start).spans.map((s, k) => {
    const p = styleProps(s.style);
    return p.className || p.style ? (
      <span key={k} className={p.className} style={p.style}>
        {s.text}
      </span>
    ) : (
      s.text
    );
  });
}

export function LogViewer({ buffer, label, live, emptyText, selection, onSelect, fileName, toolbar }: LogViewerProps) {
  const box = useRef<HTMLDivElement>(null);
  const [count, setCount] = useState(buffer.length);
  const [view, setView] = useState({ top: 0, height: 0 });
  const [height, setHeight] = useState<number>();
  const [following, setFollowing] = useState(live && !selection);
  const followRef = useRef(following);
  const anchor = useRef<number | null>(selection?.from ?? null);
  const clicked = useRef<number | null>(null);
  const cache = useMemo(() => new Map<number, ReactNode>(), [buffer]);

  useEffect(() => {
    setCount(buffer.length);
    return buffer.subscribe(() => setCount(buffer.length));
  }, [buffer]);

  // The viewer fills the window below where it starts, so the tail is on screen without scrolling the page.
  useLayoutEffect(() => {
    const el = box.current!;
    const fit = () => setHeight(Math.max(320, window.innerHeight - (el.getBoundingClientRect().top + window.scrollY) - 16));
    fit();
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight });
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    window.addEventListener('resize', fit);
    return () => {
      observer.disconnect();
      window.removeEventListener('resize', fit);
    };
  }, []);

  // A line named in the URL (not one just clicked): scroll to it once it has arrived.
  useLayoutEffect(() => {
    if (selection && selection.from !== clicked.current) anchor.current = selection.from;
    clicked.current = null;
  }, [selection?.from]);

  useLayoutEffect(() => {
    const el = box.current!;
    if (anchor.current !== null) {
      const row = buffer.indexOf(anchor.current - 1);
      if (row >= 0) {
        anchor.current = null;
        followRef.current = false;
        setFollowing(false);
        el.scrollTop = Math.max(0, row * ROW - el.clientHeight / 3);
      }
    } else if (followRef.current) {
      el.scrollTop = el.scrollHeight;
    }
    if (el.scrollTop !== view.top || el.clientHeight !== view.height) setView({ top: el.scrollTop, height: el.clientHeight });
  }, [count, height, selection?.from]);

  const onScroll = () => {
    const el = box.current!;
    const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW / 2;
    if (atBottom !== followRef.current) {
      followRef.current = atBottom;
      setFollowing(atBottom);
    }
    setView({ top: el.scrollTop, height: el.clientHeight });
  };

  // Find: Enter goes to the next line containing the text, Shift+Enter to the previous.
  const noFind = { query: '', row: -1, nth: 0, total: 0, searched: false };
  const [find, setFind] = useState(noFind);
  const findInput = useRef<HTMLInputElement>(null);
  const findNext = (dir: 1 | -1) => {
    const el = box.current!;
    const from = find.row >= 0 ? find.row + dir : Math.floor(el.scrollTop / ROW);
    const row = findRow(buffer, find.query, from, dir);
    if (row < 0) return setFind((f) => ({ ...f, row: -1, nth: 0, total: 0, searched: true }));
    setFind((f) => ({ ...f, row, nth: countRows(buffer, f.query, row) + 1, total: countRows(buffer, f.query), searched: true }));
    followRef.current = false;
    setFollowing(false);
    el.scrollTop = Math.max(0, row * ROW - el.clientHeight / 3);
  };
  const onFindKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      findNext(e.shiftKey ? -1 : 1);
    } else if (e.key === 'Escape') {
      setFind(noFind);
      box.current!.focus();
    }
  };
  // Ctrl+F inside the log opens this find, since the browser's cannot see rows out of view.
  const onPanelKey = (e: KeyboardEvent<HTMLElement>) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') {
      e.preventDefault();
      findInput.current?.focus();
      findInput.current?.select();
    }
  };

  const toBottom = () => {
    const el = box.current!;
    followRef.current = true;
    setFollowing(true);
    el.scrollTop = el.scrollHeight;
  };
  const toTop = () => {
    followRef.current = false;
    setFollowing(false);
    box.current!.scrollTop = 0;
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([buffer.text()], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  if (cache.size > 4000) cache.clear();
  const first = Math.max(0, Math.floor(view.top / ROW) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + (view.height || 800)) / ROW) + OVERSCAN);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const pos = buffer.pos[i];
    const line = pos + 1;
    let text = cache.get(pos);
    if (text === undefined) {
      text = renderText(buffer, i);
      cache.set(pos, text);
    }
    const hl = selection && line >= selection.from && line <= selection.to;
    const found = i === find.row;
    rows.push(
      <div key={pos} className={`log-line${hl ? ' hl' : ''}${found ? ' found' : ''}`} style={{ top: i * ROW }}>
        <a
          className="ln"
          href={`#L${line}`}
          tabIndex={-1}
          onClick={(e) => {
            e.preventDefault();
            const range = e.shiftKey && selection ? { from: Math.min(selection.from, line), to: Math.max(selection.from, line) } : { from: line, to: line };
            clicked.current = range.from;
            onSelect(range);
          }}
        >
          {line}
        </a>
        <span className="lt">{text}</span>
      </div>,
    );
  }
  const digits = String(count ? buffer.lastPos + 1 : 1).length;

  return (
    <section className="log-panel" onKeyDown={onPanelKey}>
      <div className="log-toolbar">
        <div className="log-title">{toolbar}</div>
        <span className="small muted log-count" aria-live="off">
          {count.toLocaleString()} {count === 1 ? 'line' : 'lines'}
        </span>
        <label className="log-find">
          <span className="visually-hidden">Find in the log</span>
          <input
            ref={findInput}
            type="search"
            placeholder="Find"
            value={find.query}
            onChange={(e) => setFind({ ...noFind, query: e.target.value })}
            onKeyDown={onFindKey}
            disabled={!count}
          />
        </label>
        {find.query && (
          <span className="small log-count" role="status">
            {!find.searched ? 'Enter to find' : find.row >= 0 ? `${find.nth} of ${find.total}` : 'No match'}
          </span>
        )}
        <button type="button" className="btn btn-small btn-dark" onClick={toTop} disabled={!count}>
          Top
        </button>
        <button type="button" className="btn btn-small btn-dark" onClick={toBottom} disabled={!count}>
          Bottom
        </button>
        <button type="button" className="btn btn-small btn-dark" onClick={download} disabled={!count}>
          Download
        </button>
      </div>
      <div
        ref={box}
        className="log"
        style={{ height, ['--ln-ch' as string]: digits }}
        tabIndex={0}
        role="region"
        aria-label={`${label}; scroll with the arrow keys, Ctrl+F to find`}
        data-lines={count}
        onScroll={onScroll}
        data-following={following ? 'true' : 'false'}
      >
        {count === 0 ? (
          <p className="log-empty">{emptyText}</p>
        ) : (
          <div className="log-rows" style={{ height: count * ROW }}>
            {rows}
          </div>
        )}
      </div>
      {live && !following && count > 0 && (
        <button type="button" className="btn btn-primary follow-button" onClick={toBottom}>
          Follow the log ↓
        </button>
      )}
    </section>
  );
}
