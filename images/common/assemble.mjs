// Runs in the images' `assemble` build stage (as root, with only `node` available: no shell is
// assumed, so this works on the official Node image and on the local host-Node base alike).
// Prepares /out for the final stage: passwd/group with the `weftkit` user (uid/gid 10001) and the
// `weftkit` admin command. Application files stay root-owned and read-only to the engine user.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] ?? '/out';
const UID = 10001;

function withEntry(file, line, id) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n').filter((l) => l.length > 0);
  // Another user/group already holding the id or the name would make `USER 10001` ambiguous.
  const kept = lines.filter((l) => {
    const [name, , num] = l.split(':');
    return name !== 'weftkit' && Number(num) !== id;
  });
  return `${[...kept, line].join('\n')}\n`;
}

mkdirSync(join(out, 'etc'), { recursive: true });
writeFileSync(
  join(out, 'etc/passwd'),
  withEntry('/etc/passwd', `weftkit:x:${UID}:${UID}:weftkit:/nonexistent:/usr/sbin/nologin`, UID),
);
writeFileSync(join(out, 'etc/group'), withEntry('/etc/group', `weftkit:x:${UID}:`, UID));
chmodSync(join(out, 'etc/passwd'), 0o644);
chmodSync(join(out, 'etc/group'), 0o644);

mkdirSync(join(out, 'usr/local/bin'), { recursive: true });
writeFileSync(
  join(out, 'usr/local/bin/weftkit'),
  "#!/usr/local/bin/node\nimport('/opt/weftkit/node_modules/@weftkit/cli/bin/weftkit.mjs');\n",
);
chmodSync(join(out, 'usr/local/bin/weftkit'), 0o755);
