// `commands` as Drone runs them: one POSIX shell script in DRONE_SCRIPT, piped
// into /bin/sh, stopping at the first failing command and echoing each command
// as `+ cmd` before its output so the log shows what ran.

export const SCRIPT_ENTRYPOINT = ['/bin/sh', '-c'];
export const SCRIPT_COMMAND = ['echo "$DRONE_SCRIPT" | /bin/sh'];

/** Single-quotes `text` for a POSIX shell; a single quote inside becomes '"'"'. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'"'"'`)}'`;
}

/**
 * The script for `commands`. Each command is echoed quoted, so `$VAR` and
 * backticks print as written instead of being expanded a first time by echo.
 */
export function shellScript(commands: string[]): string {
  const lines = ['set -e', ''];
  for (const command of commands) {
    lines.push(`echo + ${shellQuote(command)}`, command, '');
  }
  return lines.join('\n');
}
