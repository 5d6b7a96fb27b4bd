// What Harrier tells Prometheus (GET /metrics). Events (a stage handed out, a build
// finished, a delivery answered) are counted by the process that saw them; Prometheus
// sums them over every server process. The fleet's state (stages waiting and running,
// runners and their slots) is read from the database at each scrape instead, so every
// process reports the same figures and none of them needs to have seen the work queued.
//
// Each server gets a registry of its own rather than prom-client's global one, so tests
// can run several servers in one process without their figures mixing.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueFigures } from '../queue/queue-figures.ts';

export type LeaseOutcome = 'requeued' | 'errored';
export type DeliveryOutcome = 'build' | 'ignored' | 'refused' | 'failed';

export interface Metrics {
  /** The Content-Type of what exposition() returns. */
  readonly contentType: string;
  /** A stage waited this long from queued to a runner holding it. labelSet: labelSetKey of its label set. */
  queueWait(seconds: number, labelSet: string): void;
  /** A runner's lease on a stage ran out: the stage went back to the queue, or ended in error. */
  leaseExpired(outcome: LeaseOutcome): void;
  /** A build settled with this status after running this long. */
  buildFinished(status: string, seconds: number): void;
  /** A step ended with this status after running this long. */
  stepFinished(status: string, seconds: number): void;
  /** How POST /hook answered: a build, ignored on purpose, refused (4xx), failed (5xx). */
  delivery(outcome: DeliveryOutcome): void;
  /** The log retention policy removed the logs of this many builds, this many lines in all. */
  logsPurged(builds: number, lines: number): void;
  /** Every metric in Prometheus' text format, the fleet gauges set from these figures. */
  exposition(figures: QueueFigures): Promise<string>;
}

// Queue waits are seconds when runners are free and minutes to hours when the fleet is short.
const QUEUE_WAIT_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const STEP_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const BUILD_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Unprefixed (process_*, nodejs_*), as the usual Node.js dashboards expect them.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const queueWait = new Histogram({
    name: 'harrier_stage_queue_wait_seconds',
    help: 'Time from a stage being queued to a runner holding it.',
    labelNames: ['label_set'] as const,
    buckets: QUEUE_WAIT_BUCKETS,
    registers,
  });
  const leaseExpiries = new Counter({
    name: 'harrier_lease_expiries_total',
    help: 'Leases that ran out because the runner holding the stage stopped answering, by what became of the stage.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const buildDuration = new Histogram({
    name: 'harrier_build_duration_seconds',
    help: 'Time from a build starting to it settling, by final status.',
    labelNames: ['status'] as const,
    buckets: BUILD_BUCKETS,
    registers,
  });
  const stepDuration = new Histogram({
    name: 'harrier_step_duration_seconds',
    help: 'Time from a step starting to it ending, by final status.',
    labelNames: ['status'] as const,
    buckets: STEP_BUCKETS,
    registers,
  });
  const deliveries = new Counter({
    name: 'harrier_webhook_deliveries_total',
    help: 'Webhook deliveries by outcome: build created, ignored, refused (4xx), failed (5xx).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const purgedBuilds = new Counter({
    name: 'harrier_log_purged_builds_total',
    help: 'Builds whose logs the retention policy (HARRIER_LOG_RETENTION_DAYS, HARRIER_LOG_RETENTION_BUILDS) removed.',
    registers,
  });
  const purgedLines = new Counter({
    name: 'harrier_log_purged_lines_total',
    help: 'Log lines the retention policy removed.',
    registers,
  });
  const waiting = new Gauge({
    name: 'harrier_stages_waiting',
    help: 'Pending stages no runner holds yet, by label set (platform and node labels).',
    labelNames: ['label_set'] as const,
    registers,
  });
  const running = new Gauge({
    name: 'harrier_stages_running',
    help: 'Stages a runner holds (accepted or running), by label set.',
    labelNames: ['label_set'] as const,
    registers,
  });
  const connected = new Gauge({
    name: 'harrier_runners_connected',
    help: 'Runners heard from within the last minute.',
    registers,
  });
  const slots = new Gauge({
    name: 'harrier_runner_slots',
    help: 'Stage slots of connected runners: busy, and total capacity.',
    labelNames: ['state'] as const,
    registers,
  });
  for (const outcome of ['requeued', 'errored'] satisfies LeaseOutcome[]) leaseExpiries.inc({ outcome }, 0);
  for (const outcome of ['build', 'ignored', 'refused', 'failed'] satisfies DeliveryOutcome[]) deliveries.inc({ outcome }, 0);

  /** Label sets seen in earlier scrapes: they report 0 rather than vanish when their work is done. */
  const seen = new Set<string>();

  return {
    contentType: registry.contentType,
    queueWait: (seconds, labelSet) => queueWait.observe({ label_set: labelSet }, Math.max(0, seconds)),
    leaseExpired: (outcome) => leaseExpiries.inc({ outcome }),
    buildFinished: (status, seconds) => buildDuration.observe({ status }, Math.max(0, seconds)),
    stepFinished: (status, seconds) => stepDuration.observe({ status }, Math.max(0, seconds)),
    delivery: (outcome) => deliveries.inc({ outcome }),
    logsPurged: (builds, lines) => {
      purgedBuilds.inc(builds);
      purgedLines.inc(lines);
    },
    async exposition(figures) {
      // Set every gauge before serializing, with no await between, so one scrape never mixes two readings.
      for (const set of figures.labelSets) seen.add(set.key);
      const byKey = new Map(figures.labelSets.map((set) => [set.key, set]));
      for (const key of seen) {
        waiting.set({ label_set: key }, byKey.get(key)?.waiting ?? 0);
        running.set({ label_set: key }, byKey.get(key)?.running ?? 0);
      }
      connected.set(figures.runners.connected);
      slots.set({ state: 'busy' }, figures.runners.busy);
      slots.set({ state: 'total' }, figures.runners.capacity);
      return registry.metrics();
    },
  };
}
