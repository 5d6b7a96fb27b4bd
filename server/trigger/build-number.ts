// The server reads a build's pipeline file with the build's facts substituted, as the runner
// will (pipeline/substitute.ts), but before the build is stored: its number is taken from the
// repository's counter only in the transaction that stores it. The file is read for the number
// the counter gives next; when another build took that number first and the file reads
// differently with the one this build gets, the build is not stored and is made again.
import type { SubstitutionInput } from '../../pipeline/index.ts';
import { substitutePipelineFile } from '../../pipeline/index.ts';
import { buildJson, repoJson } from '../api/serialize.ts';
import type { ServerContext } from '../context.ts';
import type { Build as BuildRow, Prisma, Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { systemInfo } from '../system-info.ts';

export type BuildFields = Omit<Prisma.BuildUncheckedCreateInput, 'repoId' | 'number' | 'config' | 'stages'> & { createdAt: number };

/** The schema's defaults (prisma/sqlite/schema.prisma), for the fields a new build leaves out. */
const ROW_DEFAULTS = {
  id: 0,
  parent: 0,
  error: '',
  action: '',
  trigger: '',
  link: '',
  timestamp: 0,
  title: '',
  message: '',
  before: '',
  after: '',
  ref: '',
  sourceRepo: '',
  source: '',
  target: '',
  fork: false,
  authorLogin: '',
  authorName: '',
  authorEmail: '',
  authorAvatar: '',
  sender: '',
  params: '{}',
  cron: '',
  deployTo: '',
  configSource: 'file',
  changedFiles: null,
  cancelled: false,
  approvedBy: '',
  logsPurged: 0,
  started: 0,
  finished: 0,
  version: 1,
};

/** The number the repository's next build gets, unless another build is stored first. */
export async function nextBuildNumber(ctx: ServerContext, repoId: number): Promise<number> {
  const { counter } = await ctx.db.repo.findUniqueOrThrow({ where: { id: repoId }, select: { counter: true } });
  return counter + 1;
}

/** The facts the runner will substitute into the file of a build stored with these fields and number. */
export function newBuildFacts(ctx: ServerContext, repo: RepoRow, fields: BuildFields, number: number): SubstitutionInput {
  const row = { ...ROW_DEFAULTS, ...fields, repoId: repo.id, number, config: '' } as BuildRow;
  return { repo: repoJson(repo), build: buildJson(row), system: systemInfo(ctx.config.host) };
}

export class BuildNumberTaken extends Error {}

/** Throws BuildNumberTaken when the file, read for `facts`, reads differently for the number the build got. */
export function checkReadsTheSame(config: string, facts: SubstitutionInput, number: number): void {
  if (number === facts.build.number) return;
  const read = substitutePipelineFile(config, facts);
  const got = substitutePipelineFile(config, { ...facts, build: { ...facts.build, number } });
  if (JSON.stringify(read) !== JSON.stringify(got)) {
    throw new BuildNumberTaken(`build number ${facts.build.number} was taken while the file was read, and the file reads differently as build ${number}`);
  }
}

const TRIES = 5;

/** Makes a build again, a few times, while another build takes its number first. */
export async function retryingTakenNumbers<T>(make: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await make();
    } catch (err) {
      if (!(err instanceof BuildNumberTaken) || tries >= TRIES) throw err;
    }
  }
}
