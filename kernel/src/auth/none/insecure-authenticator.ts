// WEFTKIT_AUTH=none: every connection is the superuser `dev`. The config refuses this unless
// WEFTKIT_INSECURE_DEV=true, and the engine warns every minute while it is on.
import { mintSecurityContext, type SecurityContext } from '../../identity/security-context.js';
import { splitLoginName } from '../../identity/tenant.js';

export const INSECURE_DEV_IDENTITY = 'dev';
export const INSECURE_DEV_TENANT = 'default';

export class InsecureNoAuthAuthenticator {
  /** `login` may carry `@tenant`; the identity is always `dev`, with the superuser role. */
  authenticate(request: { login?: string; peer: string; connectionId?: string; requestId?: string }): SecurityContext {
    const tenant = request.login === undefined ? undefined : splitLoginName(request.login).tenant;
    return mintSecurityContext({
      identity: INSECURE_DEV_IDENTITY,
      tenant: tenant ?? INSECURE_DEV_TENANT,
      roles: ['superuser'],
      authMethod: 'none',
      peer: request.peer,
      ...(request.connectionId === undefined ? {} : { connectionId: request.connectionId }),
      ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
    });
  }
}
