import {
  addUser,
  assertUserName,
  changeUserPassword,
  checkPasswordPolicy,
  hashPassword,
  loadConfig,
  readEnvironment,
  removeUser,
} from '@weftkit/kernel';
import { describeError } from '../describe-error.js';
import { type Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Io, parseArgs } from '../io.js';

const USAGE = 'usage: weftkit user add|passwd NAME [--file USERS_FILE] [--bcrypt]\n       weftkit user remove NAME [--file USERS_FILE]\n' +
  'The password is read from the terminal without echo, or from the first line of stdin.\n';

function usersFile(options: Map<string, string>): string {
  return options.get('file') ?? loadConfig(readEnvironment(), 'cli').auth.usersFile;
}

async function newPassword(io: Io): Promise<string> {
  if (io.readSecret === undefined) throw Object.assign(new Error('no way to read a password'), { code: 'WK_CLI_NO_INPUT' });
  const password = await io.readSecret('New password: ');
  checkPasswordPolicy(password);
  return password;
}

function userCommand(kind: 'add' | 'passwd' | 'remove'): Command {
  return async (args, io) => {
    const { positional, flags, options, unknown } = parseArgs(args, ['bcrypt'], ['file']);
    if (positional.length !== 1 || unknown.length > 0 || (kind === 'remove' && flags.size > 0)) {
      io.err(USAGE);
      return EXIT_USAGE;
    }
    try {
      const name = assertUserName(positional[0]);
      const file = usersFile(options);
      if (kind === 'remove') {
        await removeUser(file, name);
        io.out(`removed user ${name} from ${file}; send SIGHUP to running engines to apply\n`);
        return EXIT_OK;
      }
      const hash = await hashPassword(await newPassword(io), { scheme: flags.has('bcrypt') ? 'bcrypt' : 'scram-sha-256' });
      if (kind === 'add') await addUser(file, name, hash);
      else await changeUserPassword(file, name, hash);
      io.out(`${kind === 'add' ? 'added' : 'changed the password of'} user ${name} in ${file}; send SIGHUP to running engines to apply\n`);
      return EXIT_OK;
    } catch (err) {
      io.err(`${describeError(err)}\n`);
      return EXIT_FAILED;
    }
  };
}

export const userAdd: Command = userCommand('add');
export const userPasswd: Command = userCommand('passwd');
export const userRemove: Command = userCommand('remove');
