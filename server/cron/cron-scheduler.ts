// Fires due cron jobs. Every server runs one; they share the work through the database
// (cron-store.ts claims), so a due job fires on one server once. It sleeps until the
// earliest `next`, at most a minute, so a job added or changed on a server whose message
// never arrived is still seen within a minute; the API's changes wake every server at
// once through Redis (CRON_CHANNEL).
import type { ServerContext } from '../context.ts';
import { ClaimLost } from '../trigger/trigger.ts';
import { CronBranchGone, runCronJob } from './cron-run.ts';
import { CRON_CHANNEL, claimDueCrons, finishCronRun, nextCronDue, nextFor, retryCronRun, type CronClaim } from './cron-store.ts';

/** The longest the scheduler sleeps without looking at the table. */
export const CRON_RESCAN_MS = 60_000;
/** How long a claim lasts; a run whose server died is due again after this long. */
export const CRON_LEASE_SECONDS = 120;
/** How long after a failed provider call a run is tried again (sooner if the job's own next time comes first). */
export const CRON_RETRY_SECONDS = 60;
/** Jobs taken per look: a burst of jobs due at one minute is shared among the servers a few at a time. */
const CLAIM_BATCH = 4;

/** Whether trying again later may help: the provider failed (buildFromRef answers 502 for its outages and rate limits, 400 for its refusals). */
function retryable(error: unknown): boolean {
  if (error instanceof CronBranchGone) return false;
  return !(error instanceof Error && 'status' in error && typeof error.status === 'number' && error.status < 500);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class CronScheduler {
  private stopped = false;
  /** Set by wake() while a pass is under way: the next sleep ends at once. */
  private woken = false;
  private interrupt: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly inHand = new Set<CronClaim>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ServerContext) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.ctx.events.subscribe(CRON_CHANNEL, () => this.wake());
    this.loop = this.run();
  }

  /** A job was added or changed: look at the table now rather than at the end of the sleep. */
  wake(): void {
    if (this.interrupt) this.interrupt();
    else this.woken = true;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let waitMs: number;
      try {
        waitMs = await this.pass();
      } catch (err) {
        if (!this.stopped) this.ctx.logger.warn({ err, event: 'cron_scan_failed' }, 'could not look for due cron jobs; trying again shortly');
        waitMs = 5_000;
      }
      await this.sleep(waitMs);
    }
  }

  /** Fires the jobs due now; answers how long to sleep before looking again. */
  private async pass(): Promise<number> {
    for (;;) {
      const claims = await claimDueCrons(this.ctx, CLAIM_BATCH, CRON_LEASE_SECONDS);
      for (const claim of claims) {
        if (this.stopped) return 0;
        await this.fire(claim);
      }
      if (claims.length < CLAIM_BATCH) break;
    }
    const due = await nextCronDue(this.ctx);
    return due === undefined ? CRON_RESCAN_MS : Math.min(CRON_RESCAN_MS, Math.max(0, (due - this.ctx.now()) * 1000));
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.interrupt = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.interrupt = done;
    });
  }

  private async fire(claim: CronClaim): Promise<void> {
    const { ctx } = this;
    const { job } = claim;
    this.inHand.add(claim);
    const log = ctx.logger.child({ cron: job.name, cron_id: job.id });
    try {
      const repo = await ctx.db.repo.findUnique({ where: { id: job.repoId } });
      if (!repo) return;
      log.setBindings({ repo: repo.slug });
      const result = await runCronJob(ctx, repo, job, claim);
      if (result.kind === 'build') {
        // The job's following time was written with the build.
        log.info({ event: 'cron_built', build: result.build.number, branch: job.branch }, 'cron job built');
      } else {
        await finishCronRun(ctx, claim, result.reason);
        log.info({ event: 'cron_ignored', reason: result.reason }, 'cron job made no build');
      }
    } catch (error) {
      if (error instanceof ClaimLost) {
        log.info({ event: 'cron_claim_lost', reason: error.message }, 'cron run left to the server that holds it now');
        return;
      }
      const reason = describe(error);
      if (retryable(error)) {
        const at = Math.min(ctx.now() + CRON_RETRY_SECONDS, nextFor(job.expr, false, ctx.now()));
        await retryCronRun(ctx, claim, at, `the run at ${new Date(claim.job.prev * 1000).toISOString()} failed, trying again: ${reason}`);
        log.warn({ event: 'cron_retry', err: error, retry_at: at }, 'cron job failed; it will be tried again');
      } else {
        await finishCronRun(ctx, claim, reason);
        log.warn({ event: error instanceof CronBranchGone ? 'cron_branch_missing' : 'cron_failed', err: error }, 'cron job failed');
      }
    } finally {
      this.inHand.delete(claim);
    }
  }

  /** Stops firing jobs and waits for the run in hand; one still unfinished then is due at once for the next server. */
  async stop(waitMs = 10_000): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.interrupt?.();
    await Promise.race([this.loop, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
    for (const claim of [...this.inHand]) {
      await retryCronRun(this.ctx, claim, this.ctx.now(), 'the server stopped while running it; another server runs it').catch(() => false);
    }
  }
}
