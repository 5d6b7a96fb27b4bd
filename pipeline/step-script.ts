// `commands` as Drone runs them: one POSIX shell script in DRONE_SCRIPT, run by
// /bin/sh, stopping at the first failing command and printing each command as
// `+ cmd` before its output so the log shows what ran.
//
// Drone pipes the script in (`echo "$DRONE_SCRIPT" | /bin/sh`). That breaks on
// images whose /bin/sh is dash, where echo rewrites backslashes (`\n`, `\\`, and `\c`
// cuts the script short), and it makes the script the commands' input, so a `cat`
// reads the rest of the script (bash reads its script a byte at a time). `eval` runs
// the text as written, one command after another, with the step's own input.

export const SCRIPT_ENTRYPOINT = ['/bin/sh', '-c'];
export const SCRIPT_COMMAND = ['eval "$DRONE_SCRIPT"'];

/** Single-quotes `text` for a POSIX shell; a single quote inside becomes '"'"'. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'"'"'`)}'`;
}

/**
 * The script for `commands`. Each command is printed quoted through printf's `%s`,
 * so `$VAR`, backticks and backslashes print as written: dash's echo would rewrite
 * backslashes, and an unquoted command would be expanded a first time.
 */
export function shellScript(commands: string[]): string {
  const lines = ['set -e', ''];
  for (const command of commands) {
    lines.push(`printf '+ %s\\n' ${shellQuote(command)}`, command, '');
  }
  return lines.join('\n');
}
