import { auditVerify } from './commands/audit.js';
import { configCheck, configDoc } from './commands/config.js';
import { keysRotateDek, keysRotateKek, keysStatus } from './commands/keys.js';
import { tenantCreate, tenantList, tenantShred } from './commands/tenant.js';
import { userAdd, userPasswd, userRemove } from './commands/user.js';
import { type Command, EXIT_USAGE, type Io } from './io.js';

const COMMANDS: Readonly<Record<string, { run: Command; help: string }>> = {
  'audit verify': { run: auditVerify, help: 'verify the hash chain of audit files (exit 1 when broken)' },
  'config check': { run: configCheck, help: 'validate the WEFTKIT_* environment without starting an engine' },
  'config doc': { run: configDoc, help: 'print the table of every WEFTKIT_* variable' },
  'keys rotate-kek': { run: keysRotateKek, help: 'rewrap every tenant key under a new KEK (--new-key-file FILE or --new-env FILE)' },
  'keys rotate-dek': { run: keysRotateDek, help: "give a tenant a new data key and re-encrypt its files (online: in the background)" },
  'keys status': { run: keysStatus, help: 'key versions per tenant and re-encryption progress' },
  'tenant list': { run: tenantList, help: 'list tenants with keys in WEFTKIT_DATA_DIR' },
  'tenant create': { run: tenantCreate, help: 'create a tenant key (--recreate: reuse a shredded name)' },
  'tenant shred': { run: tenantShred, help: "crypto-shred a tenant: destroy its keys, then its files (--yes)" },
  'user add': { run: userAdd, help: 'add a password user (SCRAM-SHA-256 verifier; --bcrypt for bcrypt)' },
  'user passwd': { run: userPasswd, help: "change a user's password" },
  'user remove': { run: userRemove, help: 'remove a user' },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  weftkit ${name.padEnd(width)}  ${c.help}`);
  return `usage:\n${lines.join('\n')}\n`;
}

/** Runs one CLI command; returns the process exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [group, verb, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    io.out(usage());
    return group === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS[`${group} ${verb ?? ''}`];
  if (command === undefined) {
    io.err(`unknown command: ${[group, verb].filter(Boolean).join(' ')}\n${usage()}`);
    return EXIT_USAGE;
  }
  return command.run(rest, io);
}
