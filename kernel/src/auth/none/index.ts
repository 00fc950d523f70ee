export { INSECURE_DEV_IDENTITY, INSECURE_DEV_TENANT, InsecureNoAuthAuthenticator } from './insecure-authenticator.js';
