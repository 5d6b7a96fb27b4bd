// Reads the engine's multiplexed attach stream (Tty off: 8-byte frame headers before
// each stdout or stderr chunk) and hands the payloads to the step's output in order.
import type { Readable } from 'node:stream';
import type { StepOutput } from '../backend.ts';

const HEADER = 8;

/**
 * Resolves when the stream ends or breaks. Pauses reading while `output` digests a
 * chunk it returned a promise for, so backpressure reaches the engine's socket.
 */
/** How far reading got: chunks handed on, and whether it is waiting for the output to take one. */
export interface OutputProgress {
  chunks: number;
  waiting: boolean;
}

export async function pumpOutput(stream: Readable, output: StepOutput, progress: OutputProgress = { chunks: 0, waiting: false }): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= HEADER) {
        const size = pending.readUInt32BE(4);
        if (pending.length < HEADER + size) break;
        const payload = pending.subarray(HEADER, HEADER + size);
        pending = pending.subarray(HEADER + size);
        // Waits only when the output asks to: a turn of the event loop per frame adds up over a loud step.
        const wait = payload.length > 0 ? output(payload) : undefined;
        if (wait) {
          progress.waiting = true;
          try {
            await wait;
          } finally {
            progress.waiting = false;
          }
        }
        progress.chunks++;
      }
    }
  } catch {
    // The stream breaks when the container is removed under it; what arrived was delivered.
  }
}
