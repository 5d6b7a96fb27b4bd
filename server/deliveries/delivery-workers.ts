// Turns stored deliveries into builds, off the request path: POST /hook answers once a
// delivery is stored, and these workers read the pipeline file from the provider, create
// the build, queue it and send the pending status. Every server runs a few; they take
// deliveries from the database with conditional claims (delivery-store.ts), so a delivery
// is handled by one worker of one server, and a dead server's claims expire and are
// taken again. Woken at once in the process that stored a delivery, through Redis in the
// others, and by a short poll for retries and expired claims.
import type { ServerContext } from '../context.ts';
import { HookError } from '../providers/hook-delivery.ts';
import { ScmError } from '../providers/scm.ts';
import { applyDeliveredPrivacy } from '../trigger/repo-privacy.ts';
import { DuplicateDeliveryError, trigger } from '../trigger/trigger.ts';
import { claimDeliveries, finishDelivery, nextDue, releaseDelivery, type Claim } from './delivery-store.ts';
import { IntakeBurst } from './intake-burst.ts';

/** Deliveries one server handles at once: enough to overlap provider calls, few enough to leave the event loop to requests. */
export const DELIVERY_CONCURRENCY = 4;
/** How long a claim lasts; a server that died holding one leaves it to others after this long. */
export const LEASE_SECONDS = 30;
/** Attempts before a delivery the provider keeps failing is given up as failed. */
export const MAX_ATTEMPTS = 5;
/** How often a server looks for work it was not told about (retries due, expired claims). */
const POLL_MS = 2_000;

/** The Redis channel that wakes other servers' workers (the bus adds the installation prefix). */
export const DELIVERY_CHANNEL = 'deliveries';

/** Seconds to wait before attempt n+1: 1, 2, 4, 8, … up to a minute. */
export function backoffSeconds(attempts: number): number {
  return Math.min(60, 2 ** Math.max(0, attempts - 1));
}

/** Whether trying again later may help: the provider failed (5xx, unreachable), or something of ours did. */
function retryable(error: unknown): boolean {
  if (error instanceof ScmError) return error.status >= 500 || error.status === 429;
  return !(error instanceof HookError);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class DeliveryWorkers {
  private running = 0;
  private stopped = false;
  private scanning = false;
  private again = false;
  private announcing = false;
  private announceAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly claims = new Set<Claim>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly concurrency = DELIVERY_CONCURRENCY,
    private readonly burst = new IntakeBurst(),
  ) {}

  /** Starts taking deliveries, the ones stored before this server started (or left by a dead one) first. */
  async start(): Promise<void> {
    this.unsubscribe = await this.ctx.events.subscribe(DELIVERY_CHANNEL, () => this.wake());
    this.schedule(0);
  }

  /** A delivery was stored: look for work now (here, unless deliveries come in a burst), and tell the other servers. */
  stored(): void {
    this.burst.stored();
    this.wake();
    this.announce();
  }

  /**
   * One message tells the other servers there is work, however many deliveries came:
   * while one is on its way, more deliveries ask for one more after it, not one each.
   */
  private announce(): void {
    if (this.announcing) {
      this.announceAgain = true;
      return;
    }
    this.announcing = true;
    this.announceAgain = false;
    this.ctx.events
      .publish(DELIVERY_CHANNEL, {})
      .catch((err) => this.ctx.logger.warn({ err }, 'could not tell other servers about a delivery'))
      .finally(() => {
        this.announcing = false;
        if (this.announceAgain && !this.stopped) this.announce();
      });
  }

  wake(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    void this.scan();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), ms);
    this.timer.unref();
  }

  private async scan(): Promise<void> {
    this.scanning = true;
    try {
      do {
        this.again = false;
        // Answering a burst of deliveries comes first (intake-burst.ts); a pause wakes the workers.
        const hold = this.burst.holdMs();
        if (hold > 0) {
          this.schedule(hold);
          return;
        }
        const free = this.concurrency - this.running;
        // Every worker is busy; the first to finish looks again (run() wakes), so a burst of
        // deliveries costs no query here.
        if (free <= 0) return;
        const claims = await claimDeliveries(this.ctx, free, LEASE_SECONDS);
        for (const claim of claims) this.run(claim);
        // Took all it could: more may be waiting.
        if (claims.length === free) this.again = true;
      } while (this.again && !this.stopped);
      const due = await nextDue(this.ctx);
      const wait = due === undefined ? POLL_MS : Math.max(0, (due - this.ctx.now()) * 1000);
      this.schedule(Math.min(POLL_MS, wait || POLL_MS));
    } catch (err) {
      if (!this.stopped) this.ctx.logger.warn({ err, event: 'delivery_scan_failed' }, 'could not look for deliveries; trying again shortly');
      this.schedule(POLL_MS);
    } finally {
      this.scanning = false;
    }
  }

  private run(claim: Claim): void {
    this.running++;
    this.claims.add(claim);
    const done = this.handle(claim)
      .catch((err) => this.ctx.logger.error({ err, delivery: claim.delivery.id }, 'delivery worker failed'))
      .finally(() => {
        this.running--;
        this.claims.delete(claim);
        this.inFlight.delete(done);
        this.wake();
      });
    this.inFlight.add(done);
  }

  private async handle(claim: Claim): Promise<void> {
    const { ctx } = this;
    const d = claim.delivery;
    const log = ctx.logger.child({ delivery: d.id, guid: d.guid, provider: d.provider });
    try {
      const outcome = await this.process(claim);
      if (outcome.kind === 'build') {
        ctx.metrics.delivery('build');
        log.info({ event: 'delivery_built', build: outcome.number }, 'delivery built');
        return;
      }
      if (await finishDelivery(ctx, claim, 'ignored', outcome.reason)) {
        ctx.metrics.delivery('ignored');
        log.info({ event: 'hook_ignored', hook: d.event, reason: outcome.reason }, 'webhook ignored');
      }
    } catch (error) {
      const reason = describe(error);
      if (retryable(error) && d.attempts < MAX_ATTEMPTS && !this.stopped) {
        const at = ctx.now() + backoffSeconds(d.attempts);
        if (await releaseDelivery(ctx, claim, at, `attempt ${d.attempts} of ${MAX_ATTEMPTS} failed, trying again: ${reason}`)) {
          log.warn({ event: 'delivery_retry', attempt: d.attempts, err: error }, 'delivery failed; it will be tried again');
          this.schedule(Math.max(0, (at - ctx.now()) * 1000));
        }
        return;
      }
      if (this.stopped && retryable(error)) return;
      const failed = d.attempts >= MAX_ATTEMPTS && retryable(error) ? `gave up after ${d.attempts} attempts: ${reason}` : reason;
      if (await finishDelivery(ctx, claim, 'failed', failed)) {
        ctx.metrics.delivery('failed');
        log.warn({ event: 'delivery_failed', err: error }, 'delivery failed');
      }
    }
  }

  /** What the delivery comes to: a build, or why none. Throws what the provider said when it failed. */
  private async process(claim: Claim): Promise<{ kind: 'build'; number: number } | { kind: 'ignored'; reason: string }> {
    const { ctx } = this;
    const d = claim.delivery;
    const repo = d.repoId === null ? null : await ctx.db.repo.findUnique({ where: { id: d.repoId } });
    if (!repo || !repo.active) return { kind: 'ignored', reason: `repository ${repo?.slug ?? `#${d.repoId}`} is not active in Harrier` };
    const headers = JSON.parse(d.headers) as Record<string, string>;
    const body = Buffer.from(d.body, 'utf8');
    const webhook = ctx.providers.get(repo.provider).webhook;
    const identity = webhook.identify(headers, body);
    // The signature was checked when the delivery arrived; the privacy it names applies now.
    const current = await applyDeliveredPrivacy(ctx, repo, identity.repo?.privacy);
    const parsed = webhook.parse(headers, body);
    if (parsed.kind === 'ignored') return parsed;
    const hook = { ...parsed.hook, repo: { ...parsed.hook.repo, uid: current.uid } };
    try {
      const result = await trigger(ctx, hook, { requireNewHead: parsed.requireNewHead, delivery: d });
      return result.kind === 'build' ? { kind: 'build', number: result.build.number } : result;
    } catch (error) {
      if (error instanceof DuplicateDeliveryError) return { kind: 'ignored', reason: error.message };
      throw error;
    }
  }

  /** Stops taking deliveries and waits for the ones in hand; any still unfinished then go back to pending for the next server. */
  async stop(waitMs = 10_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    const all = Promise.allSettled([...this.inFlight]);
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
    for (const claim of [...this.claims]) {
      await releaseDelivery(this.ctx, claim, 0, 'the server stopped while handling it; another server takes it').catch(() => false);
    }
  }
}
