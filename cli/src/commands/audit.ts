import { listAuditFiles, verifyAuditFiles } from '@weftkit/kernel';
import { describeError } from '../describe-error.js';
import { type Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseArgs } from '../io.js';

const USAGE =
  'usage: weftkit audit verify FILE... [--partial]\n' +
  'One FILE also checks the rotated files beside it (FILE.1, FILE.2, ...) first, in chain order.\n' +
  '--partial accepts a first event whose predecessors were removed by retention.\n';

/** `weftkit audit verify FILE...`: checks the hash chain; exit 0 intact, 1 broken or unreadable. */
export const auditVerify: Command = async (args, io) => {
  const { positional, flags, unknown } = parseArgs(args, ['partial'], []);
  if (positional.length === 0 || unknown.length > 0) {
    io.err(USAGE);
    return EXIT_USAGE;
  }
  try {
    const files = positional.length === 1 ? await listAuditFiles(positional[0]!) : positional;
    if (files.length === 0) {
      io.err(`no audit file at ${positional[0]}\n`);
      return EXIT_FAILED;
    }
    const result = await verifyAuditFiles(files, { partial: flags.has('partial') });
    if (result.ok) {
      io.out(`audit chain intact: ${result.events} events in ${files.length} file(s)\n`);
      return EXIT_OK;
    }
    io.err(`audit chain BROKEN at seq ${result.firstBadSeq ?? '?'}: ${result.reason ?? 'unknown reason'} (${result.events} events verified before it)\n`);
    return EXIT_FAILED;
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_FAILED;
  }
};
