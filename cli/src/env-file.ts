import { readFileSync } from 'node:fs';

export class EnvFileInvalid extends Error {
  readonly code = 'WK_CLI_ENV_FILE_INVALID';
}

const LINE = /^(?:export\s+)?([A-Z][A-Z0-9_]*)=(.*)$/;

/**
 * Reads `NAME=value` lines (blank lines and `#` comments skipped, optional `export `, optional
 * matching quotes) for the names `allowed` accepts. Errors name the line, never its value.
 */
export function readEnvFile(path: string, allowed: (name: string) => boolean): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EnvFileInvalid(`cannot read the env file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const env: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) throw new EnvFileInvalid(`env file line ${i + 1} is not NAME=value`);
    const name = m[1]!;
    if (!allowed(name)) throw new EnvFileInvalid(`env file line ${i + 1}: ${name} is not a key-provider setting`);
    let value = m[2]!.trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    env[name] = value;
  }
  return env;
}
