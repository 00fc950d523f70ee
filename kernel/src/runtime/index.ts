export type { Reloadable } from './signals.js';
export { reloadOnSighup, stopOnSignals, warnWhileInsecure } from './signals.js';
