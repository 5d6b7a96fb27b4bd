// Calls that arrive together, run as one: each caller gets its own answer, and the
// database sees one statement (and, for writes, one commit) for the lot. A burst of
// webhook deliveries otherwise pays, per delivery, the ORM's fixed cost of a query and
// SQLite's fsync of a commit, which were most of what answering one cost. A call made
// while a batch runs waits for it and goes with the next: while the database is busy,
// calls gather; when it is idle, a lone call goes at the next turn of the event loop.

/** Runs `inputs` as one; answers in the same order, one per input (an Error answers that input alone). */
export type BatchRun<I, O> = (inputs: I[]) => Promise<(O | Error)[]>;

export function batched<I, O>(run: BatchRun<I, O>, maxBatch = 100): (input: I) => Promise<O> {
  let queue: { input: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  let running = false;
  let scheduled = false;

  const flush = async (): Promise<void> => {
    scheduled = false;
    if (running || queue.length === 0) return;
    running = true;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    try {
      const outputs = await run(batch.map((b) => b.input));
      batch.forEach((b, i) => {
        const out = outputs[i];
        if (out instanceof Error) b.reject(out);
        else b.resolve(out as O);
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      running = false;
      if (queue.length > 0) schedule();
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void flush());
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (!running) schedule();
    });
}
