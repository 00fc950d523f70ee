// The only place in WeftKit that reads process.env. Everything else receives a WeftKitConfig.

/** The WEFTKIT_* variables of this process, as given. */
export function readEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('WEFTKIT_') && value !== undefined) out[name] = value;
  }
  return out;
}
