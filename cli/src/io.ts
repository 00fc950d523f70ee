/** Where a command writes; tests capture it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads a secret (password) without echo; absent when not interactive. */
  readSecret?(prompt: string): Promise<string>;
}

export type Command = (args: readonly string[], io: Io) => Promise<number>;

/** Exit codes: 0 done, 1 the operation failed or found a problem, 2 wrong usage. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Splits `--name value` / `--name=value` / `--flag` options from positional arguments. */
export function parseArgs(
  args: readonly string[],
  flags: readonly string[],
  options: readonly string[],
): { positional: string[]; flags: Set<string>; options: Map<string, string>; unknown: string[] } {
  const positional: string[] = [];
  const seen = new Set<string>();
  const values = new Map<string, string>();
  const unknown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (flags.includes(name) && eq < 0) seen.add(name);
    else if (options.includes(name)) {
      const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) unknown.push(arg);
      else values.set(name, value);
    } else unknown.push(arg);
  }
  return { positional, flags: seen, options: values, unknown };
}
