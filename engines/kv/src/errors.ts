// The kv engine's error registry: stable codes with the HTTP status each maps to. Errors marked
// `expose` send their message to the client; everything else is answered generically.
// Sections are owned by the layer named in their heading; add new classes inside your section.
import { WeftKitError } from '@weftkit/kernel';

export abstract class KvError extends WeftKitError {}

// ---------------------------------------------------------------------------------------------
// store (src/store)

/** An `If-Match` / `If-None-Match` precondition failed; `opIndex` says which op of a batch. */
export class PreconditionFailed extends KvError {
  readonly code = 'WK_KV_PRECONDITION_FAILED';
  override readonly httpStatus = 412;
  override readonly expose = true;
  readonly opIndex: number;
  constructor(message: string, opIndex = 0) {
    super(message);
    this.opIndex = opIndex;
  }
}

/** A watch asked to replay from a revision older than the retained change history. */
export class RevisionCompacted extends KvError {
  readonly code = 'WK_KV_REVISION_COMPACTED';
  override readonly httpStatus = 410;
  override readonly expose = true;
}

// ---------------------------------------------------------------------------------------------
// http (src/http)
