// Where a new key-encryption key comes from for a rotation: a key file, or an env file naming any
// provider. Shared by `weftkit keys rotate-kek` offline and the engine's `keys.rotate-kek` admin
// command, which reads the file itself so key bytes never travel over the admin socket.
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import type { KeyProvider } from '../crypto/key-provider.js';
import { createKeyProvider } from '../crypto/providers/create-key-provider.js';
import { KekSourceInvalid } from '../errors.js';
import { type Logger, silentLogger } from '../log/logger.js';

/** `keyFile`: 32 bytes, raw or base64 (provider `file`); `envFile`: `WEFTKIT_*` key-provider lines. */
export type KekSource = { readonly keyFile: string } | { readonly envFile: string };

/** The settings an env file may hold: the key provider and nothing else. */
const PROVIDER_SETTING = /^WEFTKIT_(KEY|KEY_FILE|KEY_PROVIDER|KEY_PROVIDER_TIMEOUT_SECONDS|VAULT_[A-Z_]+|KMS_[A-Z_]+|GCP_KMS_[A-Z_]+)$/;
const LINE = /^(?:export\s+)?([A-Z][A-Z0-9_]*)=(.*)$/;

/**
 * Reads `NAME=value` lines (blank lines and `#` comments skipped, optional `export `, optional
 * matching quotes), key-provider settings only. Errors name the line, never its value.
 */
export function readProviderEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KekSourceInvalid(`cannot read the env file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const env: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) throw new KekSourceInvalid(`env file line ${i + 1} is not NAME=value`);
    const name = m[1]!;
    if (!PROVIDER_SETTING.test(name)) throw new KekSourceInvalid(`env file line ${i + 1}: ${name} is not a key-provider setting`);
    let value = m[2]!.trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    env[name] = value;
  }
  return env;
}

/** Builds (and checks reachable) the provider a `KekSource` names. The caller closes it. */
export async function openKekSource(source: KekSource, deps: { readonly dataDir: string; readonly logger?: Logger }): Promise<KeyProvider> {
  const path = 'keyFile' in source ? source.keyFile : source.envFile;
  if (typeof path !== 'string' || path.length === 0 || path.length > 4096 || path.includes('\0') || !isAbsolute(path)) {
    throw new KekSourceInvalid('the new key source must be an absolute file path');
  }
  const env = 'keyFile' in source ? { WEFTKIT_KEY_PROVIDER: 'file', WEFTKIT_KEY_FILE: path } : readProviderEnvFile(path);
  const encryption = loadConfig(env, 'cli').encryption;
  if (encryption.provider.kind === 'dev') {
    throw new KekSourceInvalid('the env file must set WEFTKIT_KEY_PROVIDER (or WEFTKIT_KEY / WEFTKIT_KEY_FILE)');
  }
  return createKeyProvider(encryption.provider, {
    dataDir: deps.dataDir,
    logger: deps.logger ?? silentLogger,
    retry: { deadlineMs: encryption.keyProviderTimeoutSeconds * 1000 },
  });
}
