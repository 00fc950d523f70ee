// AWS Signature Version 4 verification, as AWS does it for the JSON 1.1 protocol (POST /), so a
// fake KMS rejects a request signed with the wrong secret. Test-only.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type SigV4Result =
  | { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly type: 'MissingAuthenticationTokenException' | 'IncompleteSignatureException' | 'UnrecognizedClientException' | 'InvalidSignatureException'; readonly message: string };

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function canonicalQuery(search: string): string {
  const params = [...new URLSearchParams(search).entries()].map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const);
  params.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  return params.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Verifies `req`'s SigV4 signature for `service` against the secrets the fake knows. */
export function verifySigV4(req: IncomingMessage, body: Buffer, service: string, secrets: ReadonlyMap<string, string>): SigV4Result {
  const header = req.headers.authorization;
  if (header === undefined) return { ok: false, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const m = AUTH.exec(header);
  if (m === null) return { ok: false, type: 'IncompleteSignatureException', message: 'Authorization header is malformed' };
  const [, accessKeyId, date, region, svc, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
  const secret = secrets.get(accessKeyId);
  if (secret === undefined) return { ok: false, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  const amzDate = req.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !amzDate.startsWith(date) || svc !== service) {
    return { ok: false, type: 'IncompleteSignatureException', message: 'Credential scope does not match the request' };
  }
  const skew = Math.abs(Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')) - Date.now());
  if (!(skew <= 15 * 60_000)) return { ok: false, type: 'InvalidSignatureException', message: 'Signature expired' };
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) {
    return { ok: false, type: 'IncompleteSignatureException', message: 'host and x-amz-date must be signed' };
  }
  const canonicalHeaders = names
    .map((n) => {
      const v = req.headers[n];
      const text = Array.isArray(v) ? v.join(',') : (v ?? '');
      return `${n}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const url = new URL(req.url ?? '/', 'http://fake');
  const payloadHash = typeof req.headers['x-amz-content-sha256'] === 'string' ? req.headers['x-amz-content-sha256'] : sha256Hex(body);
  if (payloadHash !== sha256Hex(body)) return { ok: false, type: 'InvalidSignatureException', message: 'The payload hash does not match' };
  const canonicalRequest = [req.method, url.pathname, canonicalQuery(url.search), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${svc}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${secret}`, date);
  const kSigning = hmac(hmac(hmac(kDate, region), svc), 'aws4_request');
  const expected = hmac(kSigning, stringToSign);
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return { ok: true, accessKeyId };
}
