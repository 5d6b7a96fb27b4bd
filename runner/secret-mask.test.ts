import { describe, expect, it } from 'vitest';
import { MASK, SecretMasker, secretForms } from './secret-mask.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

describe('SecretMasker', () => {
  it('masks a value as written, spaces at its ends included, and also without them', () => {
    const m = new SecretMasker(['  padded secret ']);
    expect(m.mask('[  padded secret ]')).toBe(`[${MASK}]`);
    // `echo $VALUE` without quotes drops the outer spaces.
    expect(m.mask('padded secret')).toBe(MASK);
  });

  it('masks values with regular expression characters literally', () => {
    const value = 'a.b*c+(d)|[e]^$\\f?{1}/';
    const m = new SecretMasker([value]);
    expect(m.mask(`x${value}y`)).toBe(`x${MASK}y`);
    expect(m.mask('aXb*c+(d)|[e]^$\\f?{1}/')).toBe('aXb*c+(d)|[e]^$\\f?{1}/');
  });

  it('leaves out values shorter than 4 characters, counted in characters', () => {
    const m = new SecretMasker(['abc', '', 'é✓x']);
    expect(m.mask('abc é✓x')).toBe('abc é✓x');
    expect(new SecretMasker(['😀abc']).mask('x😀abcx')).toBe(`x${MASK}x`);
  });

  it('masks each line of a multi-line value, with CRLF or LF, and skips short or blank lines', () => {
    const key = '-----BEGIN KEY-----\r\nMIIBOgIBAAJBAK\r\n  indented-line\r\n}\r\n    \r\n-----END KEY-----';
    const m = new SecretMasker([key]);
    expect(m.mask('-----BEGIN KEY-----')).toBe(MASK);
    expect(m.mask('MIIBOgIBAAJBAK')).toBe(MASK);
    expect(m.mask('    indented-line')).toBe(`  ${MASK}`);
    expect(m.mask('  indented-line')).toBe(MASK);
    expect(m.mask('if (x) { y }    ')).toBe('if (x) { y }    ');
  });

  it('masks the base64 forms: standard and URL-safe, padded or not', () => {
    const value = 'sec?ret>>~~'; // encodes with + and / in the standard alphabet
    expect(b64(value)).toMatch(/[+/]/);
    const m = new SecretMasker([value]);
    for (const form of [b64(value), b64(value).replace(/=+$/, ''), b64url(value), `${b64url(value)}=`]) {
      expect(m.mask(`echo ${form} done`), form).toBe(`echo ${MASK} done`);
    }
  });

  it('masks base64 of a longer text the value is part of, at any byte offset (user:password, with a newline)', () => {
    const value = 'p4ssw0rd-value';
    const m = new SecretMasker([value]);
    for (const text of [`u:${value}`, `us:${value}`, `usr:${value}`, `${value}\n`, `{"password":"${value}","x":1}`]) {
      for (const encoded of [b64(text), b64url(text)]) {
        const masked = m.mask(encoded);
        expect(masked, text).toContain(MASK);
        // What is left visible decodes to no 4 characters of the value.
        const visible = masked.split(MASK).join('');
        expect(Buffer.from(visible, 'base64').toString('latin1')).not.toContain(value.slice(0, 4));
      }
    }
  });

  it('masks URL-encoded forms: encodeURIComponent, RFC 3986 and form encoding', () => {
    const value = "it's a (sec)ret/€!";
    const m = new SecretMasker([value]);
    const strict = encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    for (const form of [encodeURIComponent(value), strict, strict.replace(/%20/g, '+'), new URLSearchParams({ q: value }).toString().slice(2)]) {
      expect(m.mask(`?q=${form}&x=1`), form).toBe(`?q=${MASK}&x=1`);
    }
  });

  it('masks overlapping and adjacent copies together, leaving no part visible', () => {
    const m = new SecretMasker(['abcabc', 'cabx']);
    expect(m.mask('1abcabcabx2')).toBe(`1${MASK}2`);
    expect(new SecretMasker(['aaaa']).mask('aaaaaaa b')).toBe(`${MASK} b`);
  });

  it('lists no form shorter than the minimum and none with a line break', () => {
    for (const form of secretForms('line one\nline two\nx')) {
      expect(form.length).toBeGreaterThanOrEqual(4);
      expect(form).not.toContain('\n');
    }
  });

  it('gives back, for a long line, a masked head that a later chunk cannot change and keeps a possible secret start', () => {
    const m = new SecretMasker(['0123456789']);
    const { head, rest } = m.maskHead(`${'x'.repeat(20)}01234`);
    expect(head.length + rest.length).toBe(25);
    expect(rest).toContain('01234');
    expect(head).toBe('x'.repeat(head.length));
    const whole = m.maskHead(`${'x'.repeat(20)}0123456789${'y'.repeat(20)}`);
    expect(whole.head + whole.rest).not.toContain('0123');
  });

  it('masks a secret at the end of a long line of near misses among many secrets', () => {
    const values = Array.from({ length: 50 }, (_, i) => `secret-value-number-${i}-${'z'.repeat(i)}`);
    const m = new SecretMasker(values);
    const text = `${'secret-value-number-'.repeat(50_000)}${values[49]}`;
    expect(m.mask(text).endsWith(MASK)).toBe(true);
  });
});

describe('SecretMasker spans', () => {
  it('joins a longer match that ends later but starts before shorter ones already found', () => {
    const m = new SecretMasker(['bbbb', 'dddd', 'abbbbcdddde']);
    expect(m.mask('xabbbbcddddex')).toBe(`x${MASK}x`);
    expect(m.mask('xbbbb-dddd')).toBe(`x${MASK}-${MASK}`);
  });
});
