// Stage tokens: the runner that accepted a stage proves it on every later call about the
// stage (core/protocol.ts, AcceptRequest.token). Only the sha256 is stored (Stage.tokenHash);
// comparisons take the same time whatever they compare.
import { createHash, timingSafeEqual } from 'node:crypto';
import { STAGE_TOKEN_HEADER } from '../../core/protocol.ts';
import { forbidden } from '../http/errors.ts';

export function hashStageToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether `token` is the one whose hash is stored; false when none is stored. */
export function stageTokenMatches(token: string, storedHash: string): boolean {
  if (!token || storedHash.length !== 64) return false;
  return timingSafeEqual(createHash('sha256').update(token).digest(), Buffer.from(storedHash, 'hex'));
}

/** 403 unless `token` is the stage's token. */
export function assertStageToken(stage: { id: number; tokenHash: string }, token: string): void {
  if (stageTokenMatches(token, stage.tokenHash)) return;
  throw forbidden(
    token
      ? `the ${STAGE_TOKEN_HEADER} header is not the token stage ${stage.id} was accepted with; only the runner process that accepted a stage may read or change it`
      : `calls about stage ${stage.id} must carry the token it was accepted with in the ${STAGE_TOKEN_HEADER} header`,
  );
}
