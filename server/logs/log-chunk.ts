// How a run of consecutive log lines is kept in one LogChunk row: the lines' [out, time]
// pairs as one JSON array, raw-DEFLATEd ("deflate"), or plain ("json", which the
// migration from one row per line wrote). Positions are not stored per line: a chunk
// holds first..last with no gap.
import zlib from 'node:zlib';
import type { LogLine } from '../../core/domain.ts';

export type LogCodec = 'deflate' | 'json';

/**
 * A chunk holds at most this much text (and this many lines), so a reader decompresses
 * about this much at a time however large the runner's batches are; a longer line
 * gets a chunk of its own.
 */
export const CHUNK_BYTES = 1 << 20;
export const CHUNK_LINES = 16_384;

/**
 * Level 1: the lines of a build log (repeated prefixes, digits, paths) compress about as
 * well at level 1 as at the default level 6, at a fraction of its time (bench/log-store.ts).
 */
const DEFLATE = { level: 1 } as const;

export interface EncodedChunk {
  first: number;
  last: number;
  /** The lines' text length (out only, in UTF-16 code units, as SQL's length() counts characters). */
  bytes: number;
  data: Uint8Array<ArrayBuffer>;
}

/** Encodes lines[start..end) of lines whose positions are consecutive. */
export function encodeChunk(lines: readonly LogLine[], start: number, end: number): EncodedChunk {
  const pairs = new Array<[string, number]>(end - start);
  let bytes = 0;
  for (let i = start; i < end; i++) {
    const line = lines[i];
    pairs[i - start] = [line.out, line.time];
    bytes += line.out.length;
  }
  const deflated = zlib.deflateRawSync(JSON.stringify(pairs), DEFLATE);
  // A plain Uint8Array over the same memory: Prisma passes one to the driver as it is, while a
  // Buffer parameter costs it several times as long (2 ms instead of 0.3 for 23 kB; bench/log-store.ts).
  const data = new Uint8Array(deflated.buffer, deflated.byteOffset, deflated.byteLength);
  return { first: lines[start].pos, last: lines[end - 1].pos, bytes, data };
}

/** Where a chunk was read from, to name it when it cannot be decoded. */
export interface ChunkRow {
  stepId: number;
  first: number;
  last: number;
  codec: string;
  data: Uint8Array;
}

/** The lines of a chunk, with their positions. */
export function decodeChunk(row: ChunkRow): LogLine[] {
  const where = `log chunk (step ${row.stepId}, lines ${row.first}..${row.last})`;
  let text: string;
  if (row.codec === 'deflate') text = zlib.inflateRawSync(row.data).toString('utf8');
  else if (row.codec === 'json') text = Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength).toString('utf8');
  else throw new Error(`${where} has codec "${row.codec}", which this server cannot read (it reads "deflate" and "json"); is a newer Harrier writing to this database?`);
  const pairs = JSON.parse(text) as [string, number][];
  if (!Array.isArray(pairs) || pairs.length !== row.last - row.first + 1) {
    throw new Error(`${where} holds ${Array.isArray(pairs) ? pairs.length : 'no'} lines instead of ${row.last - row.first + 1}; the row is damaged`);
  }
  const lines = new Array<LogLine>(pairs.length);
  for (let i = 0; i < pairs.length; i++) lines[i] = { pos: row.first + i, out: pairs[i][0], time: pairs[i][1] };
  return lines;
}

/**
 * A line as JSON, the bytes JSON.stringify({ pos, out, time }) gives (positions and times
 * are whole numbers), at about half its cost: only the text needs escaping.
 */
export function lineJson(line: LogLine): string {
  return `{"pos":${line.pos},"out":${JSON.stringify(line.out)},"time":${line.time}}`;
}
