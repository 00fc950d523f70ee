// Authorization with both layers on: the classifier (layer one) and the session's PostgreSQL role (layer two).
import { authorizationSuite } from './authz-cases.js';

authorizationSuite(false);
