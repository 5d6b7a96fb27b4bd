// The JSON the UI reads. Domain types come from the server's own core/domain.ts, so a
// renamed field breaks the UI's type check rather than the page.
export type { Build, LogLine, Permission, Repo, Stage, Status, Step, User, Webhook } from '@core/domain.ts';
export { isDone, isFailed } from '@core/domain.ts';

/** GET /api/system */
export interface SystemInfo {
  version: string;
  host: string;
  providers: { github: boolean; bitbucket: boolean };
}

/** GET /api/repos/{owner}/{name}/language */
export interface LanguageSettings {
  language: string;
  detected: string;
  languages: { id: string; name: string }[];
  proposal: string;
  default_proposal: string;
  config_path: string;
  has_config: boolean;
}

/** GET /api/repos/{owner}/{name}/secrets: values are write-only and never come back. */
export interface SecretInfo {
  name: string;
  pull_request: boolean;
}

/** GET /api/runners */
export interface RunnerInfo {
  name: string;
  labels: Record<string, string> | string[];
  capacity: number;
  os: string;
  arch: string;
  version: string;
  last_contact: number;
  online: boolean;
  running: { stage_id: number; stage: string; build: number; repo: string; status: string }[];
}
