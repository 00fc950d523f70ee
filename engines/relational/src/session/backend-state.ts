// What the engine has set up on one tenant backend (a replaced backend starts clean): whether the
// hardening SQL ran, and which session roles exist with current grants.

export interface BackendState {
  hardened: boolean;
  /** Session roles whose grants are current; cleared after DDL so grants on new tables follow. */
  readonly roles: Set<string>;
}

const states = new WeakMap<object, BackendState>();

export function backendState(backend: object): BackendState {
  let s = states.get(backend);
  if (s === undefined) {
    s = { hardened: false, roles: new Set() };
    states.set(backend, s);
  }
  return s;
}
