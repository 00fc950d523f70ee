// The CLI's own failures (the kernel's errors are reported by their kernel codes).

/** `weftkit keys rotate-dek` offline: the tenant's files were not written by an engine the CLI can re-encrypt (only kv). */
export class EngineUnknown extends Error {
  readonly code = 'WK_CLI_ENGINE_UNKNOWN';
}

/** `weftkit keys rotate-dek` offline: a tenant log file fails authentication before its tail; it is left as it is. */
export class TenantFilesCorrupt extends Error {
  readonly code = 'WK_CLI_TENANT_FILES_CORRUPT';
}
