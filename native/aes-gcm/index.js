// Loads the addon built by `node-gyp rebuild`; undefined when it is missing or libcrypto.so.3 is
// not there, so the caller falls back to node:crypto.
let binding;
try {
  binding = require('./build/Release/aes_gcm.node');
} catch {
  binding = undefined;
}
module.exports = binding;
