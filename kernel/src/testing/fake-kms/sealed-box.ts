// The fakes really encrypt: AES-256-GCM under a key only the fake holds, with the caller's
// context as AAD, so their ciphertext is opaque and bound to that context. Test-only.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}

/** The plaintext, or undefined when the box, key or AAD does not match. */
export function open(key: Buffer, box: Buffer, aad: Buffer): Buffer | undefined {
  if (box.length < 28) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, box.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(box.subarray(box.length - 16));
    const out = d.update(box.subarray(12, box.length - 16));
    d.final();
    return out;
  } catch {
    return undefined;
  }
}
