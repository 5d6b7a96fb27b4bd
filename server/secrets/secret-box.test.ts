import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../config.ts';
import { databaseKey, databaseSecretProblem, SecretBox, SecretBoxError, secretBoxFor, secretContext } from './secret-box.ts';

const HEX = 'a1'.repeat(32);
const box = new SecretBox(Buffer.from(HEX, 'hex'));
const context = secretContext(7, 'docker_password');

describe('SecretBox', () => {
  it('opens what it sealed, unicode and multi-line values included', () => {
    for (const value of ['hunter2', 'grüße 🔑', '-----BEGIN KEY-----\nabc\n-----END KEY-----\n', 'x'.repeat(65535)]) {
      expect(box.open(box.seal(value, context), context)).toBe(value);
    }
  });

  it('stores one versioned string that holds neither the value nor anything readable of it', () => {
    const sealed = box.seal('sup3r-s3cret', context);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('sup3r');
    expect(Buffer.from(sealed.split(':')[2], 'base64url').toString('latin1')).not.toContain('sup3r');
  });

  it('uses a fresh IV for every value, so equal values do not look equal', () => {
    const a = box.seal('same', context);
    const b = box.seal('same', context);
    expect(a).not.toBe(b);
    expect(a.split(':')[1]).not.toBe(b.split(':')[1]);
  });

  it('detects a changed ciphertext, IV or tag', () => {
    const sealed = box.seal('sup3r-s3cret', context);
    const [version, iv, body] = sealed.split(':');
    const flip = (b64: string, at: number) => {
      const bytes = Buffer.from(b64, 'base64url');
      bytes[at] ^= 0x01;
      return bytes.toString('base64url');
    };
    const bodyBytes = Buffer.from(body, 'base64url').length;
    for (const tampered of [
      `${version}:${iv}:${flip(body, 0)}`,
      `${version}:${flip(iv, 3)}:${body}`,
      `${version}:${iv}:${flip(body, bodyBytes - 1)}`,
    ]) {
      expect(() => box.open(tampered, context)).toThrow(SecretBoxError);
    }
  });

  it('refuses a value moved onto another secret or repository (the context is authenticated)', () => {
    const sealed = box.seal('sup3r-s3cret', context);
    expect(() => box.open(sealed, secretContext(7, 'other'))).toThrow(/changed in the database|not the key/);
    expect(() => box.open(sealed, secretContext(8, 'docker_password'))).toThrow(SecretBoxError);
  });

  it('refuses a value sealed with another key, saying which two causes there can be', () => {
    const other = new SecretBox(randomBytes(32));
    expect(() => other.open(box.seal('v', context), context)).toThrow(/changed in the database, or HARRIER_DATABASE_SECRET is not the key/);
  });

  it('refuses unknown versions and cut-short values', () => {
    const sealed = box.seal('v', context);
    expect(() => box.open(sealed.replace(/^v1:/, 'v9:'), context)).toThrow(/not in a format this server reads/);
    expect(() => box.open('plain text', context)).toThrow(SecretBoxError);
    expect(() => box.open(sealed.slice(0, 20), context)).toThrow(SecretBoxError);
  });
});

describe('HARRIER_DATABASE_SECRET', () => {
  it('takes 64 hex characters as the key itself', () => {
    expect(databaseKey(HEX).toString('hex')).toBe(HEX);
  });

  it('takes base64 (openssl rand -base64 32) and base64url of 32 bytes as the key itself', () => {
    const key = randomBytes(32);
    expect(databaseKey(key.toString('base64')).equals(key)).toBe(true);
    expect(databaseKey(key.toString('base64url')).equals(key)).toBe(true);
  });

  it('derives a key from a passphrase of 32 characters or more, the same one every time', () => {
    const passphrase = 'correct horse battery staple, and then some more';
    const key = databaseKey(passphrase);
    expect(key).toHaveLength(32);
    expect(databaseKey(passphrase).equals(key)).toBe(true);
    expect(databaseKey(`${passphrase}!`).equals(key)).toBe(false);
  });

  it('ignores the newline a value read from a file often ends with', () => {
    expect(databaseKey(`${HEX}\n`).toString('hex')).toBe(HEX);
  });

  it('refuses a short value with what to set instead', () => {
    expect(databaseSecretProblem('short')).toMatch(/too short.*openssl rand -hex 32/);
    expect(() => databaseKey('short')).toThrow(/too short/);
  });

  it('stops the server configuration on a short value, and leaves it empty when unset', () => {
    const base = { HARRIER_HOST: 'http://localhost:8080' };
    expect(() => loadServerConfig({ ...base, HARRIER_DATABASE_SECRET: 'tooshort' })).toThrow(ConfigError);
    expect(loadServerConfig(base).databaseSecret).toBe('');
    expect(loadServerConfig({ ...base, HARRIER_DATABASE_SECRET: HEX }).databaseSecret).toBe(HEX);
  });

  it('gives no box without a key, and one shared box per key', () => {
    expect(secretBoxFor('')).toBeUndefined();
    expect(secretBoxFor(HEX)).toBe(secretBoxFor(HEX));
    const sealed = secretBoxFor(HEX)!.seal('v', context);
    expect(box.open(sealed, context)).toBe('v');
  });
});
