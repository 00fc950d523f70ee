// Item keys are opaque names of 1–1024 UTF-8 bytes. They are never paths: `/` and `..` are plain
// characters, and storage never maps a key to a file name.
import { InvalidRequest, KeyEmpty, KeyInvalid, KeyTooLong } from '../errors.js';

export const MAX_KEY_BYTES = 1024;

// C0 controls (NUL included), DEL and C1 controls; lone surrogates cannot be encoded as UTF-8.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test is "only ASCII".
const NON_ASCII = /[^\u0000-\u007f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks a decoded key (or, with `allowEmpty`, a prefix); returns it unchanged. */
export function checkKey(key: string, what = 'key', allowEmpty = false): string {
  if (key.length === 0) {
    if (allowEmpty) return key;
    throw new KeyEmpty(`${what} is empty`);
  }
  // A UTF-16 code unit takes at most 3 UTF-8 bytes; count bytes only when it can matter.
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new KeyTooLong(`${what} is longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (FORBIDDEN.test(key)) throw new KeyInvalid(`${what} holds control characters or is not valid UTF-8`);
  return key;
}

/**
 * Decodes the raw (still percent-encoded) path text of a key exactly once. Bytes the client sent
 * unencoded arrive as latin1 from the HTTP parser and are read back as UTF-8.
 */
export function decodeKey(raw: string, what = 'key', allowEmpty = false): string {
  let text = raw;
  if (NON_ASCII.test(text)) {
    try {
      text = utf8.decode(Buffer.from(text, 'latin1'));
    } catch {
      throw new KeyInvalid(`${what} is not valid UTF-8`);
    }
  }
  let decoded: string;
  try {
    decoded = text.includes('%') ? decodeURIComponent(text) : text;
  } catch {
    throw new KeyInvalid(`${what} is not valid percent-encoded UTF-8`);
  }
  return checkKey(decoded, what, allowEmpty);
}

/** The key of `/items/<key>[?query]`, from the raw request URL. */
export function keyFromUrl(url: string, prefixLength: number): string {
  const q = url.indexOf('?', prefixLength);
  return decodeKey(q < 0 ? url.slice(prefixLength) : url.slice(prefixLength, q));
}

/** A query-string prefix: already decoded once by the query parser; may be empty. */
export function checkPrefix(prefix: unknown): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string') throw new InvalidRequest('prefix must be given once');
  return checkKey(prefix, 'prefix', true);
}
