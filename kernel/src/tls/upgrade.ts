// Server side of a TLS upgrade on an accepted plain socket, as after a PostgreSQL SSLRequest.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { TlsHandshakeFailed } from '../errors.js';
import type { TlsCredentials } from './credentials.js';

export interface UpgradeOptions {
  /** Abort a handshake that has not finished by then. Default 10 000 ms. */
  readonly handshakeTimeoutMs?: number;
}

interface VerifyingHandle {
  verifyError?: () => { code?: unknown } | null | undefined;
}

// Node verifies client certificates after the handshake and only `tls.Server` applies the result;
// a bare server TLSSocket leaves `authorized` false and never drops a bad peer. So this does what
// `tls.Server` does, with the same native call. If that call ever disappears, nothing is authorized.
function verifyErrorCode(socket: TLSSocket): string | undefined {
  const handle = (socket as unknown as { _handle?: VerifyingHandle })._handle;
  if (typeof handle?.verifyError !== 'function') return 'VERIFY_UNAVAILABLE';
  const err = handle.verifyError();
  if (err === null || err === undefined) return undefined;
  return typeof err.code === 'string' ? err.code : 'UNKNOWN_VERIFY_ERROR';
}

/**
 * Wraps `socket` in a server TLSSocket on the current credentials and resolves once the handshake
 * is done and the client certificate (when requested) is judged: `authorized` is true only for a
 * certificate that chains to the configured CA. With `rejectUnauthorized`, an unverified or
 * missing certificate rejects with `TlsHandshakeFailed` and the socket is destroyed. The caller
 * must have stopped reading `socket` (no 'data' listener) before calling.
 */
export function upgradeToTls(
  socket: Socket,
  credentials: TlsCredentials,
  options: UpgradeOptions = {},
): Promise<TLSSocket> {
  const requestCert = credentials.requestCert;
  const rejectUnauthorized = credentials.rejectUnauthorized;
  const tlsSocket = new TLSSocket(socket, {
    isServer: true,
    secureContext: credentials.secureContext,
    requestCert,
    rejectUnauthorized,
  });
  tlsSocket.authorized = false;
  return new Promise<TLSSocket>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new TlsHandshakeFailed('TLS handshake timed out')),
      options.handshakeTimeoutMs ?? 10_000,
    );
    const onError = (err: unknown): void => fail(new TlsHandshakeFailed('TLS handshake failed', { cause: err }));
    const onClose = (): void => fail(new TlsHandshakeFailed('connection closed during the TLS handshake'));
    const done = (): void => {
      clearTimeout(timer);
      tlsSocket.off('error', onError);
      tlsSocket.off('close', onClose);
    };
    function fail(err: TlsHandshakeFailed): void {
      done();
      tlsSocket.destroy();
      reject(err);
    }
    tlsSocket.once('error', onError);
    tlsSocket.once('close', onClose);
    tlsSocket.once('secure', () => {
      if (requestCert) {
        const code = verifyErrorCode(tlsSocket);
        const hasCert = Object.keys(tlsSocket.getPeerCertificate()).length > 0;
        if (code === undefined && hasCert) {
          tlsSocket.authorized = true;
        } else {
          tlsSocket.authorizationError = new Error(code ?? 'NO_PEER_CERTIFICATE');
          if (rejectUnauthorized) {
            fail(new TlsHandshakeFailed(`client certificate not verified (${code ?? 'NO_PEER_CERTIFICATE'})`));
            return;
          }
        }
      }
      done();
      resolve(tlsSocket);
    });
  });
}
