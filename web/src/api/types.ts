// The JSON the UI reads. Domain types come from the server's own core/domain.ts, so a
// renamed field breaks the UI's type check rather than the page.
export type {
  Build,
  Cron,
  DeliveryJson as Delivery,
  DeliveryStatus,
  LanguageSettings,
  LogLine,
  Permission,
  Repo,
  RunnerJson as RunnerInfo,
  RunnerTokenIssuedJson,
  RunnerTokenJson,
  Stage,
  StageAttempt,
  Status,
  Step,
  StepAttempt,
  SystemJson as SystemInfo,
  User,
  Webhook,
} from '@core/domain.ts';
export { isDone, isFailed } from '@core/domain.ts';

/** GET /api/repos/{owner}/{name}/secrets: values are write-only and never come back. */
export type SecretInfo = Pick<import('@core/domain.ts').Secret, 'name' | 'pull_request'>;
