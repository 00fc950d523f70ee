// Public exports of src/authz (re-exported by src/index.ts).
export type { ActionBits, ActionName, ActionTable } from './actions.js';
export { ACTION_NAMES, ALL_ACTIONS, Action, actionBit, actionNames } from './actions.js';
export type { RoleDefinition } from './builtin-roles.js';
export { BUILTIN_ROLES, NO_ACCESS_ROLE } from './builtin-roles.js';
export type { Policy, PolicyOptions, RolesFileOptions } from './policy.js';
export { builtinPolicy, loadPolicy, parsePolicy } from './policy.js';
