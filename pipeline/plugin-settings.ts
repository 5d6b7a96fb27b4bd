// Plugin `settings:` become PLUGIN_* environment variables, encoded as Drone
// encodes them so plugins written for Drone read the same values.

/** `build_args` -> PLUGIN_BUILD_ARGS; characters a variable name cannot hold become `_`. */
export function pluginEnvName(key: string): string {
  return `PLUGIN_${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/**
 * Strings as they are, numbers and booleans as text, lists of scalars joined
 * with commas (Drone's `tags: [1, latest]` -> "1,latest"), anything else as JSON.
 */
export function encodeSetting(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value) && value.every(isScalar)) return value.map((v) => (v === null ? '' : String(v))).join(',');
  return JSON.stringify(value);
}

function isScalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof v);
}

/** Plain settings as env, `{from_secret}` settings as env name -> secret name; null settings are left out, as in Drone. */
export function settingsEnv(settings: Record<string, unknown>): { env: Record<string, string>; secretEnv: Record<string, string> } {
  const env: Record<string, string> = {};
  const secretEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === null || value === undefined) continue;
    if (isSecretRef(value)) secretEnv[pluginEnvName(key)] = value.from_secret;
    else env[pluginEnvName(key)] = encodeSetting(value);
  }
  return { env, secretEnv };
}

/** A setting written as `{from_secret: name}`. */
export function isSecretRef(value: unknown): value is { from_secret: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { from_secret?: unknown }).from_secret === 'string'
  );
}
