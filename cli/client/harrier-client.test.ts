import { describe, expect, it } from 'vitest';
import { UsageError } from '../command-io.ts';
import { HarrierClient, parseEventStream, type ServerEvent } from './harrier-client.ts';

function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      chunks.forEach((c) => controller.enqueue(encoder.encode(c)));
      controller.close();
    },
  });
}

async function events(chunks: string[]): Promise<ServerEvent[]> {
  const out: ServerEvent[] = [];
  for await (const e of parseEventStream(body(chunks))) out.push(e);
  return out;
}

describe('parseEventStream', () => {
  it('reads events split anywhere across chunks, even inside a multi-byte character', async () => {
    const text = 'id: 0\ndata: {"pos":0,"out":"héllo\\n"}\n\nid: 1\ndata: {"pos":1}\n\n';
    const bytes = new TextEncoder().encode(text);
    // é's two UTF-8 bytes start at `cut`: the reads end inside a line and between é's bytes, as network reads may.
    const cut = new TextEncoder().encode(text.slice(0, text.indexOf('é'))).length;
    const raw = [bytes.slice(0, 5), bytes.slice(5, cut + 1), bytes.slice(cut + 1)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        raw.forEach((c) => controller.enqueue(c));
        controller.close();
      },
    });
    const got: ServerEvent[] = [];
    for await (const e of parseEventStream(stream)) got.push(e);
    expect(got).toEqual([
      { event: 'message', data: '{"pos":0,"out":"héllo\\n"}', id: '0' },
      { event: 'message', data: '{"pos":1}', id: '1' },
    ]);
  });

  it('reads named events, CRLF line ends and multi-line data, and skips comments and empty events', async () => {
    expect(await events([': ping\n\n', 'event: done\r\ndata: {"status":', '"success"}\r\n\r\n', 'data: a\ndata: b\n\n', 'id: 7\n\n'])).toEqual([
      { event: 'done', data: '{"status":"success"}', id: undefined },
      { event: 'message', data: 'a\nb', id: undefined },
    ]);
  });

  it('drops an event the stream ended in the middle of', async () => {
    expect(await events(['data: whole\n\n', 'data: cut off'])).toEqual([{ event: 'message', data: 'whole', id: undefined }]);
  });
});

describe('HarrierClient.connect', () => {
  it('refuses an address without a scheme or with another scheme, saying how to write it', () => {
    expect(() => HarrierClient.connect({ server: 'ci.example.com', token: 't' }, {})).toThrow(/is not a URL: write it with its scheme, e.g. https:\/\/ci.example.com/);
    expect(() => HarrierClient.connect({ server: 'ftp://ci.example.com', token: 't' }, {})).toThrow(UsageError);
  });

  it('drops a trailing slash, so paths join cleanly', () => {
    expect(HarrierClient.connect({}, { HARRIER_SERVER: 'https://ci.example.com/', HARRIER_TOKEN: 't' }).server).toBe('https://ci.example.com');
  });
});
