// AES-256-GCM page sealing/opening (kernel PageCipher) on both backends, the system libcrypto.so.3
// through @weftkit/aes-gcm (`openssl-native`) and node:crypto, against `openssl speed -evp
// aes-256-gcm` (the same system library), per page size. Also prints node:crypto's floor: one bare
// createCipheriv/update/final per page, which bounds what any node:crypto page cipher can reach.
// Run: npm run bench -- page-cipher [seconds-per-case, default 2]
import { execFileSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { type PageCipherBackend, pageCipherBackend, pageCipherLibrary } from '../kernel/src/crypto/aead-backend.js';
import { PageCipher } from '../kernel/src/crypto/page-cipher.js';
import { printRows, type Row } from './lib/report.js';

const seconds = Number(process.argv[2] ?? 2);
const sizes = [4096, 8192, 16384];

// MB per second of this process's CPU time (user + system, all threads): `openssl speed` counts
// CPU time too, so the ratio holds on a shared machine where wall time would favour the peer.
function throughput(bytesPerOp: number, op: (i: number) => void): number {
  for (let i = 0; i < 2000; i++) op(i);
  let ops = 0;
  const start = process.cpuUsage();
  let used = 0;
  while (used < seconds * 1e6) {
    for (let i = 0; i < 256; i++) op(i);
    ops += 256;
    const d = process.cpuUsage(start);
    used = d.user + d.system;
  }
  return (ops * bytesPerOp) / (used / 1e6) / 1e6;
}

/** MB/s from `openssl speed -evp aes-256-gcm -bytes N -seconds 3` (it reports 1000s of bytes/s). */
function opensslSpeed(bytes: number): number | undefined {
  try {
    const out = execFileSync('openssl', ['speed', '-evp', 'aes-256-gcm', '-bytes', String(bytes), '-seconds', '3'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const m = /^AES-256-GCM\s+([\d.]+)k\s*$/m.exec(out);
    return m ? Number(m[1]) / 1000 : undefined;
  } catch {
    return undefined;
  }
}

const rows: Row[] = [];
const fileId = randomBytes(16);
const key = randomBytes(32);
const backends: PageCipherBackend[] = pageCipherBackend() === 'openssl-native' ? ['openssl-native', 'node-crypto'] : ['node-crypto'];
for (const size of sizes) {
  const peer = opensslSpeed(size);
  const kib = `${size / 1024} KiB`;
  const withPeer = (r: Row): Row => (peer === undefined ? r : { ...r, peer });
  const plain = randomBytes(size);
  let nodeSeal = 0;
  for (const backend of backends) {
    const cipher = new PageCipher({ key, tenant: 'bench', keyVersion: 1, pageSize: size, backend });
    const sealed = Buffer.alloc(cipher.sealedSize);
    const out = Buffer.alloc(size);
    cipher.sealInto(fileId, 1, plain, sealed, 0);
    const seal = throughput(size, (i) => cipher.sealInto(fileId, i, plain, sealed, 0));
    cipher.sealInto(fileId, 1, plain, sealed, 0);
    const open = throughput(size, () => cipher.openInto(fileId, 1, sealed, out, 0));
    rows.push(withPeer({ name: `seal ${kib} ${backend} vs openssl speed`, value: seal, unit: 'MB/s', higherIsBetter: true }));
    rows.push(withPeer({ name: `open ${kib} ${backend} vs openssl speed`, value: open, unit: 'MB/s', higherIsBetter: true }));
    if (backend === 'node-crypto') nodeSeal = seal;
    cipher.destroy();
  }
  const iv = randomBytes(12);
  const aad = randomBytes(96);
  const floor = throughput(size, () => {
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    c.setAAD(aad);
    c.update(plain);
    c.final();
    c.getAuthTag();
  });
  rows.push({ name: `seal ${kib} node-crypto vs bare node:crypto call`, value: nodeSeal, unit: 'MB/s', peer: floor, higherIsBetter: true });
}
key.fill(0);
printRows(`AES-256-GCM page cipher (peer: openssl speed -evp aes-256-gcm, same page size; native = ${pageCipherLibrary()})`, rows);
