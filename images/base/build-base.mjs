#!/usr/bin/env node
// Builds `localhost/weftkit-base:node20` from the host's own Node, for machines that reach no
// container registry: the `node` binary and the shared libraries `ldd` lists, a passwd/group with
// the non-root `weftkit` user (10001), an empty /tmp. No shell, no package manager: the engine
// Dockerfiles only use exec-form `RUN ["node", ...]`, so they build on this and on node:22 alike.
//
//   node images/base/build-base.mjs [--tool podman|docker] [--tag localhost/weftkit-base:node20]
// `npm run images` calls it by itself when no registry is reachable.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerTool, podmanCommand } from '../container-tool.mjs';

export const LOCAL_BASE_IMAGE = `localhost/weftkit-base:node${process.versions.node.split('.')[0]}`;

/** Absolute paths of the shared libraries (and the dynamic loader) a binary needs, per `ldd`. */
export function sharedLibraries(binary) {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = [];
  for (const line of out.split('\n')) {
    const arrow = line.match(/=>\s*(\/\S+)/);
    const bare = line.match(/^\s*(\/\S+)\s+\(/);
    const path = arrow?.[1] ?? bare?.[1];
    if (path) libs.push(path);
  }
  return libs;
}

function copyInto(root, source, target = source) {
  const dest = join(root, target);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(realpathSync(source), dest);
  chmodSync(dest, 0o755);
}

/** Lays out the root filesystem of the base image in `root`. */
export function layoutBaseRoot(root) {
  const node = realpathSync(process.execPath);
  copyInto(root, node, '/usr/local/bin/node');
  for (const lib of sharedLibraries(node)) copyInto(root, lib);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/usr/sbin/nologin\nweftkit:x:10001:10001:weftkit:/nonexistent:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nweftkit:x:10001:\nnogroup:x:65534:\n');
  for (const dir of ['tmp', 'var/tmp']) {
    mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, dir), 0o1777);
  }
  mkdirSync(join(root, 'root'), { recursive: true });
  chmodSync(join(root, 'root'), 0o700);
}

/** Builds the base image with `tool` (a command line such as `podman --runtime runc ...`). */
export function buildBaseImage(tool, tag = LOCAL_BASE_IMAGE) {
  const root = mkdtempSync(join(tmpdir(), 'weftkit-base-'));
  try {
    layoutBaseRoot(root);
    const [cmd, ...args] = tool;
    const tar = spawnSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', root, '-c', '.'], {
      maxBuffer: 1 << 30,
    });
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    const imported = spawnSync(
      cmd,
      [
        ...args,
        'import',
        '--change',
        'ENV PATH=/usr/local/bin:/usr/bin:/bin',
        '--change',
        'ENV NODE_ENV=production',
        '--change',
        'CMD ["node"]',
        '-',
        tag,
      ],
      { input: tar.stdout, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 30 },
    );
    if (imported.status !== 0) throw new Error(`${cmd} import failed: ${imported.stderr}`);
    return tag;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const flag = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const tool = flag('--tool') === 'docker' ? ['docker'] : flag('--tool') === 'podman' ? podmanCommand() : containerTool();
  if (!tool) throw new Error('neither podman nor docker works here');
  const tag = buildBaseImage(tool, flag('--tag') ?? LOCAL_BASE_IMAGE);
  process.stdout.write(`${tag}\n`);
}
