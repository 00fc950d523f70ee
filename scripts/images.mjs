#!/usr/bin/env node
// `npm run images [-- [kv] [relational] [options]]`: builds weftkit/<engine>:<version> and :dev with
// podman or docker, whichever works. Steps: build the workspaces (turbo, cached), stage each
// engine's context on the host (images/stage.mjs), pick the base image, build. A repeat run with
// unchanged inputs skips the build (the staged context's digest is a label on the image).
//
// Options:
//   --local-base          build and use localhost/weftkit-base:node<major> from the host's Node
//   --base-image IMAGE    use IMAGE as BASE_IMAGE (default: the Dockerfile's official Node image,
//                         or the local base when it cannot be pulled)
//   --no-build            do not run the workspace build first
//   --force               rebuild even when the image matches the staged context
//   --stage-only          stage the build contexts and print their folders; build nothing
//   --print-tool          print the detected container tool as JSON and exit
//   --json                print the result (tags, sizes, base) as JSON on the last line
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBaseImage, LOCAL_BASE_IMAGE } from '../images/base/build-base.mjs';
import { containerTool, isPodman } from '../images/container-tool.mjs';
import { ENGINES, stageEngine } from '../images/stage.mjs';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const argv = process.argv.slice(2);
const has = (flag) => argv.includes(flag);
const value = (flag) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quiet = has('--json');
const say = (line) => (quiet ? process.stderr : process.stdout).write(`${line}\n`);
const fail = (message) => {
  process.stderr.write(`images: ${message}\n`);
  process.exit(1);
};

const tool = containerTool();
if (has('--print-tool')) {
  process.stdout.write(`${JSON.stringify(tool ?? null)}\n`);
  process.exit(tool ? 0 : 1);
}
if (!tool) {
  fail('no working container tool: install podman (apt-get install -y podman runc uidmap) or start a Docker engine');
}
const [cmd, ...cmdArgs] = tool;
const run = (args, options = {}) =>
  spawnSync(cmd, [...cmdArgs, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, ...options });

const engines = argv.filter((a) => a in ENGINES);
const wanted = engines.length > 0 ? engines : Object.keys(ENGINES);

// One images run at a time per checkout (parallel test files share the base image and staging).
// Outside the checkout (lint and turbo never see it); one folder per checkout.
const staging = join(tmpdir(), `weftkit-images-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
mkdirSync(staging, { recursive: true });
const lock = join(staging, '.lock');
const deadline = Date.now() + 15 * 60_000;
for (;;) {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
    break;
  } catch {
    let holder = 0;
    try {
      holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {}
    let alive = false;
    try {
      if (holder > 0) process.kill(holder, 0);
      alive = holder > 0;
    } catch {}
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if ((!alive && age > 2000) || Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
    else await new Promise((r) => setTimeout(r, 500));
  }
}
const unlock = () => rmSync(lock, { recursive: true, force: true });
process.on('exit', unlock);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

if (!has('--no-build')) {
  const filters = [...wanted.map((e) => `--filter=@weftkit/${e}...`), '--filter=@weftkit/cli...'];
  const built = spawnSync(join(root, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only', ...filters], {
    cwd: root,
    stdio: quiet ? ['ignore', 'inherit', 'inherit'] : 'inherit',
  });
  if (built.status !== 0) fail('the workspace build failed');
}

const imageExists = (image) => run(['image', 'inspect', image], { stdio: 'ignore' }).status === 0;

function officialBase() {
  const dockerfile = readFileSync(join(root, 'images', wanted[0], 'Dockerfile'), 'utf8');
  return dockerfile.match(/^ARG BASE_IMAGE=(\S+)/m)?.[1];
}

function chooseBase() {
  const explicit = value('--base-image') ?? process.env.BASE_IMAGE;
  if (explicit) return explicit;
  if (!has('--local-base')) {
    const official = officialBase();
    if (imageExists(official)) return official;
    const pulled = run(['pull', '--quiet', official], { stdio: 'ignore', timeout: 120_000 });
    if (pulled.status === 0) return official;
    say(`images: ${official} cannot be pulled (no registry reachable): using the local base ${LOCAL_BASE_IMAGE}`);
  }
  if (!imageExists(LOCAL_BASE_IMAGE) || has('--rebuild-base')) {
    say(`images: building ${LOCAL_BASE_IMAGE} from this host's Node ${process.version}`);
    buildBaseImage(tool, LOCAL_BASE_IMAGE);
  }
  return LOCAL_BASE_IMAGE;
}

const base = has('--stage-only') ? '' : chooseBase();
const revision = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || 'unknown';
const results = [];
for (const engine of wanted) {
  const spec = ENGINES[engine];
  const version = JSON.parse(readFileSync(join(root, spec.workspace, 'package.json'), 'utf8')).version;
  const name = `weftkit/${engine}`;
  const started = Date.now();
  let staged;
  try {
    staged = stageEngine(root, engine, join(staging, engine));
  } catch (err) {
    fail(`${engine}: ${err.message}`);
  }
  if (has('--stage-only')) {
    say(`images: ${engine} build context: ${join(staging, engine)}`);
    continue;
  }
  const stamp = `${staged.digest.slice(0, 32)}:${base}`;
  const existing = run(['image', 'inspect', '--format', '{{ index .Labels "io.weftkit.context" }}', `${name}:${version}`]);
  const upToDate = existing.status === 0 && existing.stdout.trim() === stamp;
  if (upToDate && !has('--force')) {
    say(`images: ${name}:${version} is up to date`);
  } else {
    say(`images: building ${name}:${version} (${staged.packages} packages, ${(staged.bytes / 1e6).toFixed(1)} MB staged) on ${base}`);
    const args = [
      'build',
      ...(isPodman(tool) ? ['--format', 'docker', '--layers'] : []),
      '-f',
      join(root, 'images', engine, 'Dockerfile'),
      '--build-arg',
      `BASE_IMAGE=${base}`,
      '--build-arg',
      `VERSION=${version}`,
      '--build-arg',
      `REVISION=${revision}`,
      '--label',
      `io.weftkit.context=${stamp}`,
      '-t',
      `${name}:${version}`,
      '-t',
      `${name}:dev`,
      join(staging, engine),
    ];
    const built = run(args, { stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
    if (built.status !== 0) fail(`${engine}: ${cmd} build failed`);
  }
  run(['tag', `${name}:${version}`, `${name}:dev`]);
  const size = Number(run(['image', 'inspect', '--format', '{{.Size}}', `${name}:${version}`]).stdout.trim());
  say(`images: ${name}:${version} ${name}:dev  ${(size / 1e6).toFixed(0)} MB  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  results.push({ engine, image: `${name}:${version}`, tags: [`${name}:${version}`, `${name}:dev`], size, base });
}
if (quiet) process.stdout.write(`${JSON.stringify({ tool, base, images: results })}\n`);
