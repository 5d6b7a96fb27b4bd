// Cron expressions as Vixie cron reads them, and the next time one fires, in UTC.
// Pure: no clock, no I/O; the scheduler (cron-scheduler.ts) passes the time in.
//
//   minute hour day-of-month month day-of-week
//   each field: * | n | a-b | */s | a-b/s | n/s (n to the field's end), comma lists of those;
//   months JAN-DEC and weekdays SUN-SAT by name too; day-of-week 7 is Sunday, as 0.
//   @hourly @daily (@midnight) @weekly @monthly @yearly (@annually)
//
// When both day fields are restricted (neither starts with "*"), a day matches if
// EITHER matches ("0 0 13 * 5": every 13th and every Friday), as Vixie cron does;
// otherwise both must.

export interface CronSchedule {
  readonly expr: string;
  readonly minute: readonly boolean[];
  readonly hour: readonly boolean[];
  readonly dayOfMonth: readonly boolean[];
  readonly month: readonly boolean[];
  readonly dayOfWeek: readonly boolean[];
  /** Whether both day fields are restricted, so that either one matching is enough. */
  readonly eitherDay: boolean;
}

export class CronExprError extends Error {}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  example: string;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59, example: '0, 30, */15, 0-29' },
  { name: 'hour', min: 0, max: 23, example: '3, 9-17, */6' },
  { name: 'day-of-month', min: 1, max: 31, example: '1, 15, 1-7' },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], example: '1, JAN-MAR, */3' },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], example: '0 (Sunday), MON-FRI, 6,0' },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const USAGE =
  'write five fields "minute hour day-of-month month day-of-week" in UTC (e.g. "0 3 * * *" for 03:00 every day), or one of @hourly, @daily, @weekly, @monthly, @yearly';

/** The longest days each month can have (February in a leap year). */
const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTH_NAMES = ['', 'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Reads an expression, or throws CronExprError saying what is wrong, in which field and at which column (1-based). */
export function parseCron(expr: string): CronSchedule {
  if (typeof expr !== 'string' || expr.trim() === '') throw new CronExprError(`the cron expression is empty; ${USAGE}`);
  const trimmed = expr.trim();
  let body = trimmed;
  if (trimmed.startsWith('@')) {
    const macro = MACROS[trimmed.toLowerCase()];
    if (!macro) throw new CronExprError(`"${trimmed}" is not a cron shorthand Harrier knows; ${USAGE}`);
    body = macro;
  }
  const words = [...body.matchAll(/\S+/g)];
  if (words.length !== FIELDS.length) {
    throw new CronExprError(`"${trimmed}" has ${words.length} field${words.length === 1 ? '' : 's'}, not 5; ${USAGE}`);
  }
  const leading = expr.length - expr.trimStart().length;
  const sets = words.map((w, i) => readField(w[0], FIELDS[i], i, body === trimmed ? leading + w.index + 1 : 1));
  const [minute, hour, dayOfMonth, month, dayOfWeek] = sets;
  // Vixie cron: 7 is Sunday too.
  if (dayOfWeek[7]) dayOfWeek[0] = true;
  dayOfWeek.length = 7;
  const eitherDay = !words[2][0].startsWith('*') && !words[4][0].startsWith('*');
  const schedule: CronSchedule = { expr: trimmed, minute, hour, dayOfMonth, month, dayOfWeek, eitherDay };
  if (!eitherDay) refuseImpossibleDays(schedule);
  return schedule;
}

/** Why the expression cannot be used, or undefined when it can. */
export function cronProblem(expr: string): string | undefined {
  try {
    parseCron(expr);
    return undefined;
  } catch (err) {
    if (err instanceof CronExprError) return err.message;
    throw err;
  }
}

function readField(text: string, spec: FieldSpec, index: number, column: number): boolean[] {
  const set: boolean[] = new Array<boolean>(spec.max + 1).fill(false);
  let offset = 0;
  for (const item of text.split(',')) {
    const where = `the ${spec.name} field (field ${index + 1}) "${text}", at column ${column + offset}`;
    const fail = (why: string) => new CronExprError(`${where}: ${why}; ${spec.name} takes ${spec.min}-${spec.max}, e.g. ${spec.example}`);
    if (item === '') throw fail('a comma list has an empty item');
    const parts = item.split('/');
    if (parts.length > 2) throw fail(`"${item}" has more than one "/"`);
    const [range, stepText] = parts;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) throw fail(`the step "${stepText}" after "/" is not a whole number`);
      step = Number(stepText);
      if (step < 1 || step > spec.max - spec.min + 1) throw fail(`the step ${stepText} is outside 1-${spec.max - spec.min + 1}`);
    }
    let low: number;
    let high: number;
    if (range === '*') {
      low = spec.min;
      high = spec.max;
    } else {
      const ends = range.split('-');
      if (ends.length > 2 || ends.some((e) => e === '')) throw fail(`"${range}" is neither a value nor a range a-b`);
      low = readValue(ends[0], spec, fail);
      high = ends.length === 2 ? readValue(ends[1], spec, fail) : stepText === undefined ? low : spec.max;
      // FRI-SUN: a range ending on Sunday ends on its other number, 7.
      if (spec.name === 'day-of-week' && ends.length === 2 && high === 0) high = 7;
      if (high < low) throw fail(`the range ${range} runs backwards; write it from the smaller value, or as a list`);
    }
    for (let v = low; v <= high; v += step) set[v] = true;
    offset += item.length + 1;
  }
  return set;
}

function readValue(word: string, spec: FieldSpec, fail: (why: string) => CronExprError): number {
  const named = spec.names?.indexOf(word.toUpperCase()) ?? -1;
  if (named >= 0) return named + spec.min;
  if (!/^\d+$/.test(word)) {
    throw fail(spec.names ? `"${word}" is neither a number nor a name (${spec.names[0]}-${spec.names[spec.names.length - 1]})` : `"${word}" is not a whole number`);
  }
  const value = Number(word);
  if (value < spec.min || value > spec.max) throw fail(`${word} is out of range`);
  return value;
}

/** A day-of-month that no chosen month has (30 February) would leave the job never firing. */
function refuseImpossibleDays(s: CronSchedule): void {
  const firstDay = s.dayOfMonth.indexOf(true);
  const months = s.month.flatMap((on, m) => (on ? [m] : []));
  if (months.some((m) => MONTH_DAYS[m] >= firstDay)) return;
  const names = months.map((m) => MONTH_NAMES[m]).join(', ');
  throw new CronExprError(`"${s.expr}" never fires: no day ${firstDay} in ${names}; choose a day-of-month every chosen month has`);
}

function dayMatches(s: CronSchedule, date: Date): boolean {
  const dom = s.dayOfMonth[date.getUTCDate()];
  const dow = s.dayOfWeek[date.getUTCDay()];
  return s.eitherDay ? dom || dow : dom && dow;
}

/** Sixty years: longer than any wait for a 29 February on a given weekday (parseCron refuses schedules that never fire). */
const HORIZON_SECONDS = 60 * 366 * 24 * 3600;

/** The first minute strictly after `after` (unix seconds) at which the schedule fires, in unix seconds. */
export function nextRun(s: CronSchedule, after: number): number {
  let t = new Date((Math.floor(after / 60) + 1) * 60_000);
  const limit = after + HORIZON_SECONDS;
  while (t.getTime() / 1000 <= limit) {
    const [y, mo, d, h] = [t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours()];
    if (!s.month[mo + 1]) t = new Date(Date.UTC(y, mo + 1, 1));
    else if (!dayMatches(s, t)) t = new Date(Date.UTC(y, mo, d + 1));
    else if (!s.hour[h]) t = new Date(Date.UTC(y, mo, d, h + 1));
    else if (!s.minute[t.getUTCMinutes()]) t = new Date(t.getTime() + 60_000);
    else return t.getTime() / 1000;
  }
  throw new CronExprError(`"${s.expr}" does not fire in the next sixty years`);
}
