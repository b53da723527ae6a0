import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Encrypts tokens at rest with AES-256-GCM: iv (12 bytes) | tag (16 bytes) | ciphertext. */
export interface Sealer {
  seal(text: string): Buffer;
  open(sealed: Buffer): string;
}

export function createSealer(keyBase64: string): Sealer {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new Error('EB_CREDENTIALS_KEY must be 32 bytes, base64-encoded');
  return {
    seal(text) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    open(sealed) {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

/** The sealer configured by EB_CREDENTIALS_KEY, if any. */
export function sealerFromEnv(): Sealer | undefined {
  const key = process.env.EB_CREDENTIALS_KEY;
  return key ? createSealer(key) : undefined;
}
