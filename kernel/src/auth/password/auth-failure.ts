import { AuthFailed } from '../../errors.js';
import { isUserName } from './users-file.js';

/** The one failure for an unknown user and a wrong password (PostgreSQL's wording). */
export function authFailed(user: string): AuthFailed {
  // Names outside the user-name pattern are attacker-chosen text: not echoed.
  return new AuthFailed(
    isUserName(user) ? `password authentication failed for user "${user}"` : 'password authentication failed',
  );
}
