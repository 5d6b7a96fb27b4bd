// The worker thread behind pipeline-thread.ts: reads pipeline files and matches their
// conditions, so the server's event loop never waits on a file a stranger wrote.
import { parentPort } from 'node:worker_threads';
import { checkBuildFile, checkPipelines, matchConditions, parseBuildFile } from '../../pipeline/index.ts';
import type { Conditions } from '../../pipeline/types.ts';
import type { MatchFacts } from '../../pipeline/index.ts';
import { usesPaths } from '../trigger/changed-files.ts';
import type { PipelineJob, PipelineJobResult } from './pipeline-jobs.ts';

function run(job: PipelineJob): unknown {
  switch (job.op) {
    case 'check': {
      const options = { trusted: job.trusted };
      const checked = job.facts ? checkBuildFile(job.config, job.facts, options) : checkPipelines(job.config, options);
      return { checked, usesPaths: checked.ok && usesPaths(checked.pipelines) };
    }
    case 'parse':
      return parseBuildFile(job.config, job.facts);
    case 'match':
      return job.conditions.map((c: Conditions) => matchConditions(c, job.facts as MatchFacts));
  }
}

parentPort!.on('message', (message: { id: number; job: PipelineJob }) => {
  let answer: PipelineJobResult;
  try {
    answer = { id: message.id, ok: true, value: run(message.job) };
  } catch (err) {
    answer = { id: message.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(answer);
});
parentPort!.postMessage('ready');
