// A build whose first step stores a 10,000-line coloured log and whose second step keeps
// printing until it is cancelled: the log viewer's tests and its benchmark
// (bench/log-viewer.ts) both open it, one to check what the viewer does, one to time it.
import type { Build } from '../../core/domain.ts';
import type { UiHarness } from './ui-harness.ts';

export const LONG_LOG_LINES = 10_000;
export const LONG_LOG_SLUG = 'octocat/long-logs';

/** A step command printing `lines` coloured lines, line N in colour N % 8: the shape the log viewer is tried on. */
export function colouredLinesCommand(lines: number): string {
  return `seq 1 ${lines} | awk '{ printf "\\033[3%dmline %d\\033[0m of a long log, with some text to make it wider than a word\\n", $1 % 8, $1 }'`;
}

// The ticker runs until cancelled (at most 20 minutes: 24,000 ticks of 0.05 s), so a
// test that looks at it late on a busy machine still finds it running.
const PIPELINE = `kind: pipeline
type: docker
name: default

steps:
- name: long
  image: alpine:3
  commands:
  - ${colouredLinesCommand(LONG_LOG_LINES)}
- name: ticker
  image: alpine:3
  commands:
  - |
    i=0; while [ $i -lt 24000 ]; do i=$((i+1)); echo "tick $i"; sleep 0.05; done
`;

export interface LongLogBuild {
  slug: string;
  build: Build;
  /** Page of the stored 10,000-line log (stage 1, step 2: after the clone). */
  longStepPath: string;
  /** Cancels the build, so the runner stops the ticker at once. */
  cancel(): Promise<void>;
}

/** Adds and activates the repository, pushes, and returns once the long step is stored and the ticker runs. */
export async function startLongLogBuild(h: UiHarness): Promise<LongLogBuild> {
  const slug = LONG_LOG_SLUG;
  h.addRepo(slug, { 'README.md': '# logs\n', '.drone.yml': PIPELINE }, { shared: true });
  await h.activate(slug);
  const build = await h.push(slug, { 'CHANGELOG.md': 'more\n' }, 'Print a long log');
  const cancel = async () => {
    await h.api(`/api/repos/${slug}/builds/${build.number}`, 'DELETE');
  };
  try {
    await h.waitForBuild(
      slug,
      build.number,
      (b) => {
        const steps = b.stages?.[0]?.steps ?? [];
        return steps[1]?.status === 'success' && steps[2]?.status === 'running';
      },
      120_000,
    );
  } catch (err) {
    await cancel().catch(() => undefined);
    throw err;
  }
  return { slug, build, longStepPath: `/${slug}/${build.number}/1/2`, cancel };
}
