// The images' HEALTHCHECK (no curl in the image): GET /readyz on the ops port, exit 0 on 200.
// Usage: node healthcheck.mjs relational|kv. The ops address comes from the same WEFTKIT_*
// configuration the engine loaded, through the kernel (the only reader of the environment).
import { get } from 'node:http';
import { loadConfig, readEnvironment } from '@weftkit/kernel';

let ops;
try {
  ops = loadConfig(readEnvironment(), process.argv[2] === 'relational' ? 'relational' : 'kv').ops;
} catch {
  process.exit(1);
}
const host = ops.host === '0.0.0.0' || ops.host === '::' ? '127.0.0.1' : ops.host;
const req = get({ host, port: ops.port, path: '/readyz', timeout: 3000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
