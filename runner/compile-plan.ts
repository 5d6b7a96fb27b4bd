// The runner's StageCompiler: checks the build's pipeline file again (the runner does
// not take the server's word for trust rules), picks the stage's pipeline and compiles it.
import type { StageDetails } from '../core/protocol.ts';
import { checkBuildFile, compileStage, formatPipelineErrors, pipelineLocation } from '../pipeline/index.ts';
import type { CompiledStage, CompileRequest } from './execute-stage.ts';

const MAX_ERRORS_SHOWN = 5;

export function compileStagePlan(details: StageDetails, request: CompileRequest): CompiledStage {
  const file = details.repo.config_path || '.drone.yml';
  // Drone replaces ${DRONE_*} and friends in the file's text before reading it; the server read the same text.
  const checked = checkBuildFile(details.config, details, { trusted: details.repo.trusted });
  if (!checked.ok) return { ok: false, error: formatPipelineErrors(file, checked.errors, MAX_ERRORS_SHOWN) };
  const pipeline = checked.pipelines.find((p) => p.name === details.stage.name);
  if (!pipeline) {
    const names = checked.pipelines.map((p) => `"${p.name}"`).join(', ');
    return { ok: false, error: `${file}: no pipeline is named "${details.stage.name}" (the file has ${names}); was the file changed after the build was created?` };
  }
  try {
    const plan = compileStage({
      pipeline,
      repo: details.repo,
      build: details.build,
      stage: details.stage,
      system: details.system,
      workspaceHostPath: request.workspaceHostPath,
      netrc: details.netrc,
      secretNames: details.secrets.map((s) => s.name),
      idPrefix: request.idPrefix,
      labels: request.labels,
      changedFiles: details.changed_files ?? undefined,
      privilegedImages: request.privilegedImages,
    });
    return { ok: true, pipeline, plan };
  } catch (err) {
    const at = pipeline.position;
    return { ok: false, error: `${pipelineLocation(file, at)} ${err instanceof Error ? err.message : String(err)}` };
  }
}
