// Runs once before the suite. Services (Redis, Docker, PostgreSQL) are started by
// `npm test`'s preparation step (scripts/prepare.mjs); here we only make the images.
import { ensureTestImages } from './images.ts';

export default function setup(): void {
  ensureTestImages();
}
