// Stages an engine's image build context on the host: its built workspace packages (dist/, bin/,
// package.json) and the production dependency closure copied from the repository's installed
// node_modules (exactly what `npm ci` locked), pruned of files Node never loads at run time.
// Builds cannot reach the npm registry here (TLS is intercepted inside containers), so nothing is
// installed inside the image build; the closure is walked with Node's own resolution rules.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

/** The image's engines: workspace, bin, ports. */
export const ENGINES = {
  relational: { workspace: 'engines/relational', bin: 'bin/weftkit-relational.mjs', port: 20000, opsPort: 20001 },
  kv: { workspace: 'engines/kv', bin: 'bin/weftkit-kv.mjs', port: 20004, opsPort: 20005 },
};

/** Workspaces shipped beside each engine (the kernel it imports, the admin CLI for offline work). */
const EXTRA_WORKSPACES = ['kernel', 'cli'];

// File names and directories no production require() reaches.
const PRUNE_FILE = /(\.map|\.d\.ts|\.d\.mts|\.d\.cts|\.tsbuildinfo|\.md|\.markdown|\.gyp|\.gypi|\.cc|\.cpp|\.c|\.h|\.hpp|\.o|\.obj|\.ts|\.mts|\.cts)$/i;
const KEEP_FILE = /^(LICEN[CS]E|COPYING|NOTICE)/i;
const PRUNE_DIR = new Set([
  'test',
  'tests',
  '__tests__',
  'docs',
  'doc',
  'example',
  'examples',
  'benchmark',
  'benchmarks',
  '.github',
  'coverage',
  'src-ts',
  '.turbo',
  '.test-results',
]);

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Resolves a package directory the way Node does: `node_modules/<name>` from `from` up to `root`. */
function resolvePackage(name, from, root) {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === root) return undefined;
    const parent = dirname(dir);
    if (parent === dir || !parent.startsWith(root)) return undefined;
    dir = parent;
  }
}

/**
 * The production closure of `workspaces` as a map from real source directory to its path in the
 * staged tree. Workspace packages land in `node_modules/<name>`; other packages keep their
 * repository-relative path, so Node resolves the same versions in the image as on the host.
 */
export function productionClosure(root, workspaces) {
  const wsDirs = new Map();
  for (const ws of readJson(join(root, 'package.json')).workspaces ?? []) {
    const dir = realpathSync(join(root, ws));
    wsDirs.set(dir, readJson(join(dir, 'package.json')).name);
  }
  const stagedPath = (dir) => {
    for (const [wsDir, name] of wsDirs) {
      if (dir === wsDir) return join('node_modules', name);
      if (dir.startsWith(wsDir + sep)) return join('node_modules', name, relative(wsDir, dir));
    }
    return relative(root, dir);
  };
  const closure = new Map();
  const queue = workspaces.map((ws) => realpathSync(join(root, ws)));
  while (queue.length > 0) {
    const dir = queue.shift();
    if (closure.has(dir)) continue;
    closure.set(dir, { staged: stagedPath(dir), workspace: wsDirs.has(dir) });
    const pkg = readJson(join(dir, 'package.json'));
    const optionalPeers = new Set(
      Object.entries(pkg.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta?.optional)
        .map(([name]) => name),
    );
    const wanted = [
      ...Object.keys(pkg.dependencies ?? {}).map((name) => [name, true]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => [name, false]),
      ...Object.keys(pkg.peerDependencies ?? {})
        .filter((name) => !optionalPeers.has(name))
        .map((name) => [name, false]),
    ];
    for (const [name, required] of wanted) {
      const found = resolvePackage(name, dir, root);
      if (found) queue.push(found);
      else if (required) throw new Error(`${pkg.name} needs ${name}, which is not installed (run npm ci)`);
    }
  }
  return closure;
}

function copyTree(src, dest, stats, top = true) {
  mkdirSync(dest, { recursive: true });
  for (const entry of readdirSync(src, { withFileTypes: true })) {
    const from = join(src, entry.name);
    const to = join(dest, entry.name);
    if (entry.isDirectory()) {
      // Nested node_modules are staged as packages of their own (only those in the closure).
      // Test/doc folders are pruned only at a package's top level (e.g. yaml's dist/doc is code).
      if (entry.name === 'node_modules' || (top && PRUNE_DIR.has(entry.name))) continue;
      copyTree(from, to, stats, false);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      if (entry.isSymbolicLink() && !statSync(from, { throwIfNoEntry: false })?.isFile()) continue;
      if (PRUNE_FILE.test(entry.name) && !KEEP_FILE.test(entry.name)) continue;
      copyFileSync(from, to);
      const mode = lstatSync(from).mode & 0o111 ? 0o755 : 0o644;
      chmodSync(to, mode);
      stats.files += 1;
      stats.bytes += statSync(to).size;
    }
  }
}

function copyFile(from, to, stats) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, statSync(from).mode & 0o111 ? 0o755 : 0o644);
  stats.files += 1;
  stats.bytes += statSync(to).size;
}

/** Copies a workspace package: only what it runs (package.json, dist/, bin/, and its `files`). */
function copyWorkspace(src, dest, stats) {
  mkdirSync(dest, { recursive: true });
  const pkg = readJson(join(src, 'package.json'));
  delete pkg.devDependencies;
  delete pkg.scripts;
  writeFileSync(join(dest, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  for (const part of new Set(['dist', 'bin', ...(pkg.files ?? [])])) {
    const from = join(src, part);
    const st = statSync(from, { throwIfNoEntry: false });
    if (st?.isDirectory()) copyTree(from, join(dest, part), stats, false);
    else if (st?.isFile() && !(PRUNE_FILE.test(part) && !KEEP_FILE.test(part))) copyFile(from, join(dest, part), stats);
  }
  if (pkg.exports && !existsSync(join(src, 'dist'))) {
    throw new Error(`${pkg.name} is not built (no dist/): run npm run build first`);
  }
}

const AES_GCM = '@weftkit/aes-gcm';

/**
 * The page cipher's addon dlopens libcrypto.so.3, which `ldd node` does not list and slim bases
 * lack: ship the host's copy (the one the addon binds here) beside the addon, where it looks next.
 */
function stageLibcrypto(root, staged, stats) {
  let addon;
  try {
    addon = createRequire(join(root, 'package.json'))(AES_GCM);
  } catch {
    addon = undefined;
  }
  if (addon === undefined) throw new Error(`${AES_GCM} is not built or cannot load libcrypto.so.3 (run npm ci)`);
  const library = realpathSync(addon.info().library);
  const release = join(staged, 'build', 'Release');
  if (!existsSync(join(release, 'aes_gcm.node'))) throw new Error(`${AES_GCM} was staged without build/Release/aes_gcm.node`);
  copyFile(library, join(release, 'libcrypto.so.3'), stats);
  const license = '/usr/share/doc/libssl3/copyright';
  if (existsSync(license)) copyFile(license, join(release, 'libcrypto.so.3.copyright'), stats);
}

/**
 * Writes the build context for `engine` into `outDir`: `app/` (becomes /opt/weftkit),
 * `assemble.mjs` and `healthcheck.mjs`. Returns a digest of the staged tree (stable across runs
 * with the same inputs) and its size.
 */
export function stageEngine(root, engine, outDir) {
  const spec = ENGINES[engine];
  if (!spec) throw new Error(`unknown engine ${engine}`);
  if (!existsSync(join(root, spec.workspace, spec.bin))) {
    throw new Error(`${spec.workspace}/${spec.bin} does not exist yet`);
  }
  rmSync(outDir, { recursive: true, force: true });
  const app = join(outDir, 'app');
  const stats = { files: 0, bytes: 0 };
  const closure = productionClosure(root, [spec.workspace, ...EXTRA_WORKSPACES]);
  for (const [dir, { staged, workspace }] of closure) {
    if (workspace) copyWorkspace(dir, join(app, staged), stats);
    else copyTree(dir, join(app, staged), stats);
  }
  const aesGcm = [...closure.values()].find(({ staged }) => staged === join('node_modules', AES_GCM));
  if (aesGcm) stageLibcrypto(root, join(app, aesGcm.staged), stats);
  const here = dirname(new URL(import.meta.url).pathname);
  copyFileSync(join(here, 'common', 'assemble.mjs'), join(outDir, 'assemble.mjs'));
  copyFileSync(join(here, 'common', 'healthcheck.mjs'), join(outDir, 'healthcheck.mjs'));
  copyFileSync(join(here, 'common', 'check-aead.mjs'), join(outDir, 'check-aead.mjs'));
  return { packages: closure.size, ...stats, digest: treeDigest(outDir) };
}

/** A digest over every staged path, mode and content: equal digests mean an identical context. */
export function treeDigest(dir) {
  const hash = createHash('sha256');
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(d, entry.name);
      hash.update(`${relative(dir, full)}\0${entry.isDirectory() ? 'd' : lstatSync(full).mode & 0o777}\0`);
      if (entry.isDirectory()) walk(full);
      else hash.update(readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('hex');
}
