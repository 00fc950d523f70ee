// Runs in the images' `assemble` stage on the same base as the final image: the staged kernel must
// choose the native AES-GCM page cipher (the system's or the bundled libcrypto.so.3, passing its
// self-test); a silent fall-back to node:crypto (~3x slower) stops the build instead.
// Usage: node check-aead.mjs /out/opt/weftkit
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const app = process.argv[2] ?? '/opt/weftkit';
const backend = await import(pathToFileURL(join(app, 'node_modules/@weftkit/kernel/dist/crypto/aead-backend.js')).href);
const active = backend.pageCipherBackend();
const line = `page cipher backend: ${active}, ${backend.pageCipherLibrary()}\n`;
if (active !== 'openssl-native') {
  process.stderr.write(line);
  process.exit(1);
}
process.stdout.write(line);
