// Loads and checks the server's TLS files. A bad file is named by its setting; its contents never
// appear in an error (a key file's text is a secret).
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import {
  CertificateMalformed,
  TlsCertificateExpired,
  TlsCertificateNotYetValid,
  TlsClientCaMissing,
  TlsFileUnreadable,
  TlsInvalidPem,
  TlsKeyMismatch,
} from '../errors.js';
import { readCertificateFields } from './certificate-fields.js';

/** What the server needs to serve TLS; the lead fills it from `WEFTKIT_TLS_*`. */
export interface TlsOptions {
  /** `WEFTKIT_TLS_CERT`: PEM server certificate, leaf first, then any intermediates. */
  readonly certFile: string;
  /** `WEFTKIT_TLS_KEY`: PEM private key of the leaf certificate (unencrypted). */
  readonly keyFile: string;
  /** `WEFTKIT_TLS_CA` / `WEFTKIT_MTLS_CA`: PEM bundle of CAs trusted for client certificates. */
  readonly caFile?: string;
  /** Ask clients for a certificate (mTLS). Requires `caFile`. */
  readonly requestClientCert: boolean;
  /** Drop the connection when the client certificate is missing or does not chain to `caFile`. */
  readonly rejectUnauthorized: boolean;
}

export const TLS_VERSION = 'TLSv1.3';

export const TLS_SETTING = {
  cert: 'WEFTKIT_TLS_CERT',
  key: 'WEFTKIT_TLS_KEY',
  ca: 'WEFTKIT_TLS_CA',
} as const;

/** A checked set of TLS files and the context built from them. */
export interface TlsMaterial {
  readonly context: SecureContext;
  /** Options that rebuild `context` (for `tls.Server#setSecureContext`); holds the key bytes. */
  readonly contextOptions: SecureContextOptions & { key: Buffer };
  readonly notBefore: Date;
  readonly notAfter: Date;
}

async function readSetting(setting: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new TlsFileUnreadable(`${setting}: cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

function parseCertificates(setting: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) throw new TlsInvalidPem(`${setting}: no PEM certificate found`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new TlsInvalidPem(`${setting}: certificate #${i + 1} is not a valid certificate`);
    }
  });
}

function parseKey(pem: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new TlsInvalidPem(`${TLS_SETTING.key}: not an unencrypted PEM private key`);
  }
}

/**
 * Reads and checks the files: the leaf certificate must be valid at `now` and match the key, the
 * CA bundle must parse, and client certificates are never requested without a CA (Node would
 * otherwise verify them against the public roots).
 */
export async function loadTlsMaterial(options: TlsOptions, now: Date = new Date()): Promise<TlsMaterial> {
  if (options.requestClientCert && options.caFile === undefined) {
    throw new TlsClientCaMissing(`client certificates are requested but ${TLS_SETTING.ca} is not set`);
  }
  const [certPem, keyPem, caPem] = await Promise.all([
    readSetting(TLS_SETTING.cert, options.certFile),
    readSetting(TLS_SETTING.key, options.keyFile),
    options.caFile === undefined ? undefined : readSetting(TLS_SETTING.ca, options.caFile),
  ]);
  try {
    const leaf = parseCertificates(TLS_SETTING.cert, certPem)[0]!;
    const key = parseKey(keyPem);
    if (caPem !== undefined) parseCertificates(TLS_SETTING.ca, caPem);

    let fields: ReturnType<typeof readCertificateFields>;
    try {
      fields = readCertificateFields(leaf.raw);
    } catch (err) {
      if (err instanceof CertificateMalformed) throw new TlsInvalidPem(`${TLS_SETTING.cert}: certificate is malformed`);
      throw err;
    }
    if (now.getTime() > fields.notAfter.getTime()) {
      throw new TlsCertificateExpired(`${TLS_SETTING.cert}: certificate expired at ${fields.notAfter.toISOString()}`);
    }
    if (now.getTime() < fields.notBefore.getTime()) {
      throw new TlsCertificateNotYetValid(
        `${TLS_SETTING.cert}: certificate is not valid before ${fields.notBefore.toISOString()}`,
      );
    }
    let matches = false;
    try {
      matches = leaf.checkPrivateKey(key);
    } catch {
      matches = false;
    }
    if (!matches) throw new TlsKeyMismatch(`${TLS_SETTING.key} does not match the certificate in ${TLS_SETTING.cert}`);

    const contextOptions: SecureContextOptions & { key: Buffer } = {
      key: keyPem,
      cert: certPem,
      ...(caPem === undefined ? {} : { ca: caPem }),
      minVersion: TLS_VERSION,
      maxVersion: TLS_VERSION,
    };
    let context: SecureContext;
    try {
      context = createSecureContext(contextOptions);
    } catch {
      throw new TlsInvalidPem(`${TLS_SETTING.cert}/${TLS_SETTING.key}/${TLS_SETTING.ca}: rejected by OpenSSL`);
    }
    return { context, contextOptions, notBefore: fields.notBefore, notAfter: fields.notAfter };
  } catch (err) {
    keyPem.fill(0);
    throw err;
  }
}
