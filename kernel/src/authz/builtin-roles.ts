import { ALL_ACTIONS, Action, type ActionBits } from './actions.js';

/** One role after validation: bitmasks, and the resource patterns it is limited to, if any. */
export interface RoleDefinition {
  readonly name: string;
  readonly allow: ActionBits;
  readonly deny: ActionBits;
  /** Resource patterns; absent means the role applies to every resource. */
  readonly on?: readonly string[];
}

/** The role an identity without roles gets; it holds nothing. */
export const NO_ACCESS_ROLE = 'no_access';

/** Roles every deployment has; roles.yaml may not redefine them. */
export const BUILTIN_ROLES: readonly RoleDefinition[] = Object.freeze(
  [
    { name: 'superuser', allow: ALL_ACTIONS, deny: 0 },
    { name: 'read_write', allow: Action.SELECT | Action.INSERT | Action.UPDATE | Action.DELETE, deny: 0 },
    { name: 'read_only', allow: Action.SELECT, deny: 0 },
    { name: 'schema_admin', allow: Action.DDL, deny: 0 },
    { name: NO_ACCESS_ROLE, allow: 0, deny: 0 },
  ].map((r) => Object.freeze(r)),
);
