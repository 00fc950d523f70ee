// The closed set of actions both engines check. Each is one bit, so a grant is a bitmask and a
// check is a bit test. Bit values are internal: persist and display names, never numbers.

/** Action names as written in roles.yaml (statement kinds upper case, admin permissions lower). */
export type ActionName =
  | 'SELECT'
  | 'INSERT'
  | 'UPDATE'
  | 'DELETE'
  | 'DDL'
  | 'COPY TO'
  | 'COPY FROM'
  | 'EXECUTE'
  | 'metrics'
  | 'backup'
  | 'restore'
  | 'user_admin'
  | 'role_admin';

/** An action's bit (or a union of bits, meaning "all of them"). */
export type ActionBits = number;

export interface ActionTable {
  readonly SELECT: 1;
  readonly INSERT: 2;
  readonly UPDATE: 4;
  readonly DELETE: 8;
  readonly DDL: 16;
  readonly COPY_TO: 32;
  readonly COPY_FROM: 64;
  readonly EXECUTE: 128;
  readonly METRICS: 256;
  readonly BACKUP: 512;
  readonly RESTORE: 1024;
  readonly USER_ADMIN: 2048;
  readonly ROLE_ADMIN: 4096;
}

/** Bits for the hot path: `policy.authorize(ctx, Action.SELECT, 'public.orders')`. */
export const Action: ActionTable = Object.freeze({
  SELECT: 1,
  INSERT: 2,
  UPDATE: 4,
  DELETE: 8,
  DDL: 16,
  COPY_TO: 32,
  COPY_FROM: 64,
  EXECUTE: 128,
  METRICS: 256,
  BACKUP: 512,
  RESTORE: 1024,
  USER_ADMIN: 2048,
  ROLE_ADMIN: 4096,
} as const);

/** Every action bit set: what `superuser` holds. */
export const ALL_ACTIONS: ActionBits = 8191;

/** The action names in bit order (index i is bit 1 << i). */
export const ACTION_NAMES: readonly ActionName[] = Object.freeze([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'DDL',
  'COPY TO',
  'COPY FROM',
  'EXECUTE',
  'metrics',
  'backup',
  'restore',
  'user_admin',
  'role_admin',
] as const);

const BY_NAME: ReadonlyMap<string, number> = new Map(ACTION_NAMES.map((name, i) => [name, 1 << i]));

/** The bit of an action name; 0 for anything unknown, which every check denies. */
export function actionBit(name: string): ActionBits {
  return BY_NAME.get(name) ?? 0;
}

/** The names of the actions in `bits`, in bit order (for messages, audit and `weftkit` output). */
export function actionNames(bits: ActionBits): ActionName[] {
  const out: ActionName[] = [];
  for (let i = 0; i < ACTION_NAMES.length; i++) if ((bits & (1 << i)) !== 0) out.push(ACTION_NAMES[i]!);
  return out;
}
