// Encryption of values the database must not hold in the clear (repository and organisation secrets).
// AES-256-GCM with the installation's key from HARRIER_DATABASE_SECRET: a random 12-byte
// IV per value, the 16-byte tag after the ciphertext, and a context (which row the value
// belongs to) bound in as additional data, so a value copied onto another row does not
// decrypt there. A sealed value is one string, versioned so the format can change:
//
//   v1:<IV, base64url>:<ciphertext and tag, base64url>
//
// The key, in order of the first rule that applies to the variable's value:
//   64 hex characters                       -> those 32 bytes (`openssl rand -hex 32`)
//   43 or 44 base64 characters, 32 bytes    -> those 32 bytes (`openssl rand -base64 32`)
//   any other string of 32 characters or more -> scrypt(value), so a long passphrase works too
// Anything shorter is refused at startup: it would be a weak key.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
export const MIN_PASSPHRASE_LENGTH = 32;
// A fixed salt: there is one key per installation, and the passphrase is the secret.
const SCRYPT_SALT = 'harrier/HARRIER_DATABASE_SECRET/v1';
const SCRYPT_OPTIONS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/** The value cannot be opened: changed in the database, or sealed with another key. */
export class SecretBoxError extends Error {}

/** Why the value cannot be a key, or undefined when it can. Cheap: no key derivation. */
export function databaseSecretProblem(value: string): string | undefined {
  const v = value.trim();
  if (HEX_KEY.test(v) || BASE64_KEY.test(v) || v.length >= MIN_PASSPHRASE_LENGTH) return undefined;
  return (
    `HARRIER_DATABASE_SECRET is ${v.length} characters long, too short for an encryption key; ` +
    `set it to 32 random bytes, e.g. the output of \`openssl rand -hex 32\`, or to a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`
  );
}

/** The 32-byte key the value stands for (see the rules at the top of this file). */
export function databaseKey(value: string): Buffer {
  const v = value.trim();
  if (HEX_KEY.test(v)) return Buffer.from(v, 'hex');
  if (BASE64_KEY.test(v)) {
    const key = Buffer.from(v, 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  const problem = databaseSecretProblem(v);
  if (problem) throw new Error(problem);
  return scryptSync(v, SCRYPT_SALT, KEY_BYTES, SCRYPT_OPTIONS);
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`a secret box key is ${KEY_BYTES} bytes, not ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** Encrypts `plaintext` for the row named by `context` (e.g. "secret:12:docker_password"). */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}:${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  /** Decrypts a value seal() made for the same context; throws SecretBoxError when it cannot. */
  open(sealed: string, context: string): string {
    const parts = sealed.split(':');
    if (parts[0] !== VERSION || parts.length !== 3) {
      throw new SecretBoxError(`the stored value is not in a format this server reads (expected "${VERSION}:…", found "${parts[0].slice(0, 8)}…")`);
    }
    const iv = Buffer.from(parts[1], 'base64url');
    const body = Buffer.from(parts[2], 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SecretBoxError('the stored value is cut short or malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        'the stored value does not decrypt: it was changed in the database, or HARRIER_DATABASE_SECRET is not the key it was stored with',
      );
    }
  }
}

// Deriving a key from a passphrase takes a moment (scrypt), so each value is derived once per process.
const boxes = new Map<string, SecretBox>();

/** The box for the configured HARRIER_DATABASE_SECRET, or undefined when none is set. */
export function secretBoxFor(databaseSecret: string): SecretBox | undefined {
  if (!databaseSecret.trim()) return undefined;
  let box = boxes.get(databaseSecret);
  if (!box) {
    box = new SecretBox(databaseKey(databaseSecret));
    boxes.set(databaseSecret, box);
  }
  return box;
}

/** The additional data binding an organisation secret's value to its provider, namespace and name. */
export function orgSecretContext(provider: string, namespace: string, name: string): string {
  return `org-secret:${provider}:${namespace}:${name}`;
}

/** The additional data binding a repository secret's value to its row. */
export function secretContext(repoId: number, name: string): string {
  return `secret:${repoId}:${name}`;
}
