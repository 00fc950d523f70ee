import { type EngineName, loadConfig, readEnvironment, renderConfigTable } from '@weftkit/kernel';
import { describeError } from '../describe-error.js';
import { type Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseArgs } from '../io.js';

const ENGINES: readonly EngineName[] = ['relational', 'kv'];

/** `weftkit config check [--engine relational|kv]`: validates this environment's WEFTKIT_* variables. */
export const configCheck: Command = async (args, io) => {
  const { options, unknown, positional } = parseArgs(args, [], ['engine']);
  const engine = (options.get('engine') ?? 'relational') as EngineName;
  if (unknown.length > 0 || positional.length > 0 || !ENGINES.includes(engine)) {
    io.err('usage: weftkit config check [--engine relational|kv]\n');
    return EXIT_USAGE;
  }
  try {
    const config = loadConfig(readEnvironment(), engine);
    io.out(
      `configuration is valid for ${engine}: auth ${config.auth.methods.join(',')}, ` +
        `encryption ${config.encryption.mode} (key provider ${config.encryption.provider.kind}), ` +
        `tls ${config.tls ? 'on' : 'off'}, audit ${config.audit.enabled ? 'on' : 'off'}\n`,
    );
    return EXIT_OK;
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_FAILED;
  }
};

/** `weftkit config doc`: prints the Markdown table of every variable (docs/configuration.md embeds it). */
export const configDoc: Command = async (_args, io) => {
  io.out(`${renderConfigTable()}\n`);
  return EXIT_OK;
};
