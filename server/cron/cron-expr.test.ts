import { describe, expect, it } from 'vitest';
import { CronExprError, cronProblem, nextRun, parseCron } from './cron-expr.ts';

const at = (iso: string) => Date.parse(`${iso}Z`) / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 16);
const next = (expr: string, after: string) => iso(nextRun(parseCron(expr), at(after)));

/** The next n firing times after `after`. */
function runs(expr: string, after: string, n: number): string[] {
  const s = parseCron(expr);
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < n; i++) out.push(iso((t = nextRun(s, t))));
  return out;
}

describe('nextRun', () => {
  it('fires strictly after the given time, on the minute', () => {
    expect(next('* * * * *', '2026-01-01T10:00:00')).toBe('2026-01-01T10:01');
    expect(next('* * * * *', '2026-01-01T10:00:59')).toBe('2026-01-01T10:01');
    expect(next('30 * * * *', '2026-01-01T10:30:00')).toBe('2026-01-01T11:30');
  });

  it('rolls over hours, days, months and years', () => {
    expect(next('5 0 * * *', '2026-12-31T23:59:00')).toBe('2027-01-01T00:05');
    expect(next('0 0 1 1 *', '2026-06-15T12:00:00')).toBe('2027-01-01T00:00');
  });

  it('understands lists, ranges, steps and n/step', () => {
    expect(runs('0,30 9-10 * * *', '2026-03-02T08:00:00', 5)).toEqual([
      '2026-03-02T09:00',
      '2026-03-02T09:30',
      '2026-03-02T10:00',
      '2026-03-02T10:30',
      '2026-03-03T09:00',
    ]);
    expect(runs('*/20 * * * *', '2026-03-02T08:00:00', 3)).toEqual(['2026-03-02T08:20', '2026-03-02T08:40', '2026-03-02T09:00']);
    expect(runs('10-40/15 * * * *', '2026-03-02T08:00:00', 4)).toEqual(['2026-03-02T08:10', '2026-03-02T08:25', '2026-03-02T08:40', '2026-03-02T09:10']);
    expect(runs('50/5 * * * *', '2026-03-02T08:00:00', 3)).toEqual(['2026-03-02T08:50', '2026-03-02T08:55', '2026-03-02T09:50']);
  });

  it('skips months without the day (31st) and stays on month ends', () => {
    expect(runs('0 0 31 * *', '2026-01-31T00:00:00', 3)).toEqual(['2026-03-31T00:00', '2026-05-31T00:00', '2026-07-31T00:00']);
    expect(next('0 0 30 * *', '2026-01-30T00:00:00')).toBe('2026-03-30T00:00');
  });

  it('finds 29 February only in leap years, and not in 2100', () => {
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00')).toBe('2028-02-29T00:00');
    expect(next('0 0 29 2 *', '2096-03-01T00:00:00')).toBe('2104-02-29T00:00');
  });

  it('matches either day field when both are restricted (Vixie cron)', () => {
    // 2026-02-13 is a Friday; the 6th and 20th are Fridays too.
    expect(runs('0 0 13 * 5', '2026-02-01T00:00:00', 4)).toEqual(['2026-02-06T00:00', '2026-02-13T00:00', '2026-02-20T00:00', '2026-02-27T00:00']);
    expect(runs('0 0 1 * MON', '2026-05-30T00:00:00', 3)).toEqual(['2026-06-01T00:00', '2026-06-08T00:00', '2026-06-15T00:00']);
  });

  it('needs both day fields when one starts with "*"', () => {
    // Odd days that are Mondays: 2026-06-01, 06-15 and 06-29 are Mondays and odd.
    expect(runs('0 0 */2 * 1', '2026-05-31T00:00:00', 3)).toEqual(['2026-06-01T00:00', '2026-06-15T00:00', '2026-06-29T00:00']);
    expect(runs('0 12 * * 6', '2026-06-01T00:00:00', 2)).toEqual(['2026-06-06T12:00', '2026-06-13T12:00']);
  });

  it('takes 7 as Sunday and names for months and weekdays, in any case', () => {
    expect(next('0 0 * * 7', '2026-06-01T00:00:00')).toBe('2026-06-07T00:00');
    expect(next('0 0 * * sun', '2026-06-01T00:00:00')).toBe('2026-06-07T00:00');
    expect(runs('0 0 * * FRI-SUN', '2026-06-01T00:00:00', 3)).toEqual(['2026-06-05T00:00', '2026-06-06T00:00', '2026-06-07T00:00']);
    expect(runs('0 0 * * 5-7', '2026-06-01T00:00:00', 3)).toEqual(['2026-06-05T00:00', '2026-06-06T00:00', '2026-06-07T00:00']);
    expect(next('0 0 1 Jun-aug *', '2026-01-01T00:00:00')).toBe('2026-06-01T00:00');
  });

  it.each([
    ['@hourly', '2026-06-01T10:15:00', '2026-06-01T11:00'],
    ['@daily', '2026-06-01T10:15:00', '2026-06-02T00:00'],
    ['@midnight', '2026-06-01T10:15:00', '2026-06-02T00:00'],
    ['@weekly', '2026-06-01T10:15:00', '2026-06-07T00:00'],
    ['@monthly', '2026-06-01T10:15:00', '2026-07-01T00:00'],
    ['@yearly', '2026-06-01T10:15:00', '2027-01-01T00:00'],
    ['@annually', '2026-06-01T10:15:00', '2027-01-01T00:00'],
    ['  @DAILY ', '2026-06-01T10:15:00', '2026-06-02T00:00'],
  ])('%s after %s is %s', (expr, after, expected) => {
    expect(next(expr, after)).toBe(expected);
  });
});

describe('parseCron refuses', () => {
  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['* * * *', /has 4 fields, not 5/],
    ['0 0 * * * *', /has 6 fields, not 5/],
    ['@often', /"@often" is not a cron shorthand/],
    ['60 * * * *', /minute field \(field 1\) "60", at column 1: 60 is out of range; minute takes 0-59/],
    ['0 24 * * *', /hour field \(field 2\) "24", at column 3: 24 is out of range; hour takes 0-23/],
    ['0 0 0 * *', /day-of-month field \(field 3\) "0", at column 5: 0 is out of range/],
    ['0 0 * 13 *', /month field \(field 4\) "13", at column 7: 13 is out of range/],
    ['0 0 * * 8', /day-of-week field \(field 5\) "8", at column 9: 8 is out of range/],
    ['0 0 * * SAT-MON', /the range SAT-MON runs backwards/],
    ['0 0 * * MONDAY', /"MONDAY" is neither a number nor a name \(SUN-SAT\)/],
    ['1,,2 * * * *', /at column 3: a comma list has an empty item/],
    ['1,2,x * * * *', /"1,2,x", at column 5: "x" is not a whole number/],
    ['  0 5-2 * * *', /hour field \(field 2\) "5-2", at column 5: the range 5-2 runs backwards/],
    ['*/0 * * * *', /the step 0 is outside 1-60/],
    ['*/a * * * *', /the step "a" after "\/" is not a whole number/],
    ['1/2/3 * * * *', /more than one "\/"/],
    ['1- * * * *', /"1-" is neither a value nor a range a-b/],
    ['-1 * * * *', /"-1" is neither a value nor a range a-b/],
    ['0 0 30 2 *', /never fires: no day 30 in February/],
    ['0 0 31 4,6 *', /never fires: no day 31 in April, June/],
  ])('%j', (expr, why) => {
    expect(() => parseCron(expr)).toThrow(CronExprError);
    expect(cronProblem(expr)).toMatch(why);
  });

  it('accepts 30 February when a weekday may fire instead (either day field)', () => {
    expect(cronProblem('0 0 30 2 MON')).toBeUndefined();
    expect(next('0 0 30 2 MON', '2026-01-01T00:00:00')).toBe('2026-02-02T00:00');
  });
});
