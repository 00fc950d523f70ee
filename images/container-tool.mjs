// Finds a container tool that works: podman (with the runtime and cgroup manager this host
// needs) or a docker client whose engine answers `docker info`. `CONTAINER_TOOL` (e.g.
// `docker`, or a full podman command line) overrides the detection.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Podman's command line here: runc where cgroups are v1/hybrid (crun fails), cgroupfs without systemd. */
export function podmanCommand() {
  const cmd = ['podman'];
  const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  if (!cgroupV2 && onPath('runc')) cmd.push('--runtime', 'runc');
  if (!existsSync('/run/systemd/system')) cmd.push('--cgroup-manager', 'cgroupfs');
  return cmd;
}

/** The working tool as an argv prefix, or undefined when neither podman nor docker works. */
export function containerTool() {
  const forced = process.env.CONTAINER_TOOL?.trim();
  if (forced) return forced.split(/\s+/);
  if (onPath('podman')) {
    const cmd = podmanCommand();
    if (spawnSync(cmd[0], [...cmd.slice(1), 'info'], { stdio: 'ignore', timeout: 30_000 }).status === 0) return cmd;
  }
  if (onPath('docker') && spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 }).status === 0) {
    return ['docker'];
  }
  return undefined;
}

export const isPodman = (tool) => tool[0].endsWith('podman');
