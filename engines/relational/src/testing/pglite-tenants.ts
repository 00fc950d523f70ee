// Test double of the TenantManager contract: one real PGlite per tenant, in this process, in
// memory, without encryption. Unit and session tests use it; it is excluded from the build.
import { PGlite } from '@electric-sql/pglite';
import type { TenantBackend, TenantManager, TenantManagerStats, TransactionStatus } from '../tenant/tenant-backend.js';

class InProcessBackend implements TenantBackend {
  readonly tenant: string;
  readonly db: PGlite;
  #busy = false;
  /** Exchanges run so far (tests check that refused input never reached the backend). */
  exchanges = 0;

  constructor(tenant: string, db: PGlite) {
    this.tenant = tenant;
    this.db = db;
  }

  async exchange(messages: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<TransactionStatus | null> {
    if (this.#busy) throw new Error('overlapping exchange on a tenant backend');
    this.#busy = true;
    this.exchanges++;
    let tail = Buffer.alloc(0);
    try {
      await this.db.execProtocolRawStream(messages, {
        onRawData: (chunk: Uint8Array) => {
          // PGlite may reuse the chunk's memory: hand the session its own copy, as a worker would.
          const copy = Buffer.from(chunk);
          tail = Buffer.concat([tail, copy.subarray(Math.max(0, copy.length - 6))]).subarray(-6);
          onData(copy);
        },
      });
    } finally {
      this.#busy = false;
    }
    if (tail.length === 6 && tail[0] === 0x5a && tail.readInt32BE(1) === 5) {
      return String.fromCharCode(tail[5]!) as TransactionStatus;
    }
    return null;
  }
}

export interface PgliteTenants extends TenantManager {
  /** The open backend of a tenant, if any (tests inspect it). */
  backend(tenant: string): InProcessBackend | undefined;
}

export function createPgliteTenants(): PgliteTenants {
  const backends = new Map<string, Promise<InProcessBackend>>();
  const resolved = new Map<string, InProcessBackend>();
  let holds = 0;
  let created = 0;
  return {
    async open(tenant) {
      let p = backends.get(tenant);
      if (p === undefined) {
        p = PGlite.create().then((db) => {
          const b = new InProcessBackend(tenant, db);
          resolved.set(tenant, b);
          return b;
        });
        backends.set(tenant, p);
        created++;
      }
      const backend = await p;
      holds++;
      let released = false;
      return {
        backend,
        release: () => {
          if (!released) holds--;
          released = true;
        },
      };
    },
    stats(): TenantManagerStats {
      return { open: backends.size, opening: 0, created, evicted: 0 };
    },
    backend(tenant) {
      return resolved.get(tenant);
    },
    async close() {
      for (const p of backends.values()) await (await p).db.close();
      backends.clear();
      resolved.clear();
      if (holds !== 0) throw new Error(`${holds} backend holds not released at close`);
    },
  };
}
