// Image references as Drone normalises them: a missing tag means `:latest`.

/**
 * Adds `:latest` to an image without a tag or digest. A colon before the last
 * slash belongs to a registry's port (`localhost:5000/app`), not to a tag.
 */
export function normalizeImage(image: string): string {
  if (image.includes('@')) return image;
  const lastSlash = image.lastIndexOf('/');
  const lastColon = image.lastIndexOf(':');
  if (lastColon > lastSlash) return image;
  return `${image}:latest`;
}

/** Why an image reference cannot be pulled, or undefined when it looks valid. */
export function imageProblem(image: string): string | undefined {
  // `${IMAGE}` is substituted by the runner before it compiles; judge it then.
  if (image.includes('${')) return undefined;
  if (/\s/.test(image)) return `image \`${image}\` contains whitespace`;
  const repository = image.split('@')[0].replace(/:[^/]*$/, '');
  // The registry host may have capitals (DNS is case-insensitive); the path may not.
  const path = repository.includes('/') ? repository.slice(repository.indexOf('/') + 1) : repository;
  if (path !== path.toLowerCase()) return `image \`${image}\` has capital letters in its name; Docker accepts only lowercase names`;
  return undefined;
}
