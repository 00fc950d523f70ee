import { PasswordPolicyViolation } from '../../errors.js';

export const PASSWORD_MIN_LENGTH = 12;

/**
 * The policy for passwords set with `weftkit user add|passwd`: at least 12 characters (code
 * points), one ASCII letter, one digit. Throws `PasswordPolicyViolation` naming the rule.
 */
export function checkPasswordPolicy(password: string): void {
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    throw new PasswordPolicyViolation('min_length', `password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (!/[A-Za-z]/.test(password)) throw new PasswordPolicyViolation('letter', 'password must contain an ASCII letter');
  if (!/[0-9]/.test(password)) throw new PasswordPolicyViolation('digit', 'password must contain a digit');
}
