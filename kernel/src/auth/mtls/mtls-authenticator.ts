// mTLS authentication: the TLS handshake has verified the client certificate against the CA; this
// turns its subject into a SecurityContext.
import type { TLSSocket } from 'node:tls';
import { MtlsNotAuthorized, MtlsUserMismatch, TenantNotAllowed } from '../../errors.js';
import { type IdentityBindings, noBindings } from '../../identity/bindings.js';
import { mintSecurityContext, type SecurityContext } from '../../identity/security-context.js';
import { type CertificateIdentity, identityFromSubject, type MtlsOptions, tenantAttributeOid } from './certificate-identity.js';
import { readCertificateFields } from '../../tls/certificate-fields.js';

export interface MtlsAuthenticatorOptions extends MtlsOptions {
  /** Roles and tenant restrictions per identity (roles.yaml `users:`); none by default. */
  readonly bindings?: IdentityBindings;
}

export interface MtlsRequest {
  readonly connectionId: string;
  readonly requestId?: string;
}

export class MtlsAuthenticator {
  readonly #tenantOid: string;
  readonly #bindings: IdentityBindings;

  /** Throws `ConfigInvalidValue` for an unknown tenant attribute. */
  constructor(options: MtlsAuthenticatorOptions = {}) {
    this.#tenantOid = tenantAttributeOid(options.tenantAttribute);
    this.#bindings = options.bindings ?? noBindings;
  }

  /** Identity and tenant of the socket's client certificate; only for a certificate the CA verified. */
  peerIdentity(socket: TLSSocket): CertificateIdentity {
    // `authorized` is set only when the handshake verified the chain against the configured CA.
    if (socket.authorized !== true) throw new MtlsNotAuthorized('a client certificate signed by the trusted CA is required');
    const cert = socket.getPeerCertificate(true);
    if (cert === null || cert === undefined || !(cert.raw instanceof Uint8Array) || cert.raw.length === 0) {
      throw new MtlsNotAuthorized('a client certificate signed by the trusted CA is required');
    }
    return identityFromSubject(readCertificateFields(cert.raw).subject, this.#tenantOid);
  }

  /** For `password,mtls`: the certificate CN must be exactly the user name that logged in. */
  requireUser(socket: TLSSocket, user: string): CertificateIdentity {
    const id = this.peerIdentity(socket);
    if (id.identity !== user) throw new MtlsUserMismatch('client certificate does not belong to this user');
    return id;
  }

  /**
   * The SecurityContext of an mTLS-only connection. The tenant comes from the signed certificate
   * and cannot be chosen by the client. A roles-file binding for the CN can only narrow it: when
   * one exists, its tenant list must contain `*` or the certificate's tenant (an empty list allows
   * none), as for password users; without a binding the CA is the authority and roles are [].
   */
  authenticate(socket: TLSSocket, request: MtlsRequest): SecurityContext {
    const { identity, tenant } = this.peerIdentity(socket);
    const binding = this.#bindings.lookup(identity);
    if (binding !== undefined && !binding.tenants.includes('*') && !binding.tenants.includes(tenant)) {
      throw new TenantNotAllowed('this identity may not use that tenant');
    }
    return mintSecurityContext({
      identity,
      tenant,
      roles: binding?.roles ?? [],
      authMethod: 'mtls',
      peer: `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`,
      connectionId: request.connectionId,
      ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
    });
  }
}
