export { readEnvironment } from './environment.js';
export { loadConfig } from './load-config.js';
export type { VariableKind, VariableSpec } from './schema.js';
export { AUDIT_EVENTS, AUTH_METHODS, JWT_ALGORITHMS, KEY_PROVIDERS, VARIABLES } from './schema.js';
export type * from './types.js';
export { renderConfigTable } from './config-doc.js';
