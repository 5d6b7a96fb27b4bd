// The runner's own environment for every step (HARRIER_RUNNER_ENV_FILE), as Drone's
// DRONE_RUNNER_ENV_FILE: KEY=VALUE lines, `#` comments and blank lines; `export ` in front
// and quotes around a value are allowed, so a file written for a shell reads the same.

/** A line that is not KEY=VALUE; `line` is 1-based. */
export class EnvFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'EnvFileError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The value without one pair of matching quotes around it. */
function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) return value.slice(1, -1);
  return value;
}

/** The variables of an env file's text; a later line wins over an earlier one of the same name. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq < 0) throw new EnvFileError(i + 1, `line ${i + 1} is not KEY=VALUE: "${line.slice(0, 60)}"`);
    const name = body.slice(0, eq).trim();
    if (!NAME.test(name)) {
      throw new EnvFileError(i + 1, `line ${i + 1}: "${name.slice(0, 60)}" is not a variable name (letters, digits and _, not starting with a digit)`);
    }
    env[name] = unquote(body.slice(eq + 1).trim());
  });
  return env;
}
