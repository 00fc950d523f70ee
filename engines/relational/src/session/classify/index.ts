// Public surface of the statement classifier (authorization layer one).
export type { ClassifierCacheOptions, ClassifierCacheStats } from './cache.js';
export { ClassifierCache } from './cache.js';
export { classify, loadClassifier } from './classify.js';
export { PreparedStatements } from './prepared.js';
export type {
  Classification,
  ForbiddenReason,
  ResourceAccess,
  StatementClassification,
  StatementFlagTable,
} from './types.js';
export { StatementFlag } from './types.js';
