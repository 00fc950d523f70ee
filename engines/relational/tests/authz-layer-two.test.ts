// The same cases with the classifier bypassed (a test-only option): the PostgreSQL role alone holds.
import { authorizationSuite } from './authz-cases.js';

authorizationSuite(true);
