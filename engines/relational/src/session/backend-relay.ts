// Streams a backend's answer to the client frame by frame, as it arrives, dropping what the client
// must not see: the answer to statements the session itself prepended (identity settings), the
// CopyInResponse of a COPY the session already announced, and ParameterStatus reports about the
// executor's own superuser session.
import { BackendCode, BackendFrameSplitter, type TransactionStatus } from '../protocol/index.js';

const DEFAULT_MAX_HELD_BYTES = 16 * 1024 * 1024;

/** ParameterStatus names that describe the executor's bootstrap superuser, not the client's identity. */
const HIDDEN_PARAMETERS: ReadonlySet<string> = new Set(['session_authorization', 'is_superuser', 'role']);

export interface RelayPlan {
  /** Answers (each ending in ReadyForQuery) of session-prepended statements to drop first. */
  readonly skipReadies: number;
  /** Drop the backend's CopyInResponse (the session sent its own before buffering the data). */
  readonly dropCopyIn: boolean;
  /** How many of the skipped answers must succeed (later ones, e.g. replayed SETs, may fail). Default all. */
  readonly criticalReadies?: number;
  /** Keep the client's part until `release()` (or drop it with `discard()`) instead of streaming it. */
  readonly hold?: boolean;
  /** Most bytes a `hold` keeps; past it the answer is dropped and `holdOverflow` set (default 16 MiB). */
  readonly maxHeldBytes?: number;
}

function hiddenParameter(body: Buffer): boolean {
  const end = body.indexOf(0);
  return end > 0 && HIDDEN_PARAMETERS.has(body.toString('latin1', 0, end));
}

export class BackendRelay {
  readonly #write: (chunk: Buffer) => void;
  #splitter = new BackendFrameSplitter();
  #skip = 0;
  #dropCopyIn = false;
  #pending: Buffer | undefined;
  #critical = 0;
  #held: Buffer[] | undefined;
  #heldBytes = 0;
  #maxHeld = DEFAULT_MAX_HELD_BYTES;

  /** Status of the last ReadyForQuery relayed in this exchange. */
  lastStatus: TransactionStatus | null = null;
  /** An ErrorResponse arrived in the dropped, session-prepended part. */
  preludeFailed = false;
  /** A `hold` answer outgrew `maxHeldBytes`: it was dropped and cannot be released. */
  holdOverflow = false;

  constructor(write: (chunk: Buffer) => void) {
    this.#write = write;
  }

  begin(plan: RelayPlan): void {
    this.#splitter = new BackendFrameSplitter();
    this.#skip = plan.skipReadies;
    this.#dropCopyIn = plan.dropCopyIn;
    this.#critical = plan.criticalReadies ?? plan.skipReadies;
    this.#held = plan.hold === true ? [] : undefined;
    this.#heldBytes = 0;
    this.#maxHeld = plan.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
    this.holdOverflow = false;
    this.lastStatus = null;
    this.preludeFailed = false;
  }

  /** The `onData` of an exchange. */
  push(chunk: Uint8Array): void {
    const splitter = this.#splitter;
    splitter.push(chunk);
    for (let f = splitter.next(); f !== undefined; f = splitter.next()) {
      const code = f.code;
      if (this.#skip > 0) {
        if (code === BackendCode.ErrorResponse && this.#critical > 0) this.preludeFailed = true;
        else if (code === BackendCode.ReadyForQuery) {
          this.#skip--;
          if (this.#critical > 0) this.#critical--;
        }
        continue;
      }
      if (code === BackendCode.ReadyForQuery) {
        const s = f.body[0];
        this.lastStatus = s === 0x54 ? 'T' : s === 0x45 ? 'E' : 'I';
      } else if (code === BackendCode.CopyInResponse && this.#dropCopyIn) {
        this.#dropCopyIn = false;
        continue;
      } else if (code === BackendCode.ParameterStatus && hiddenParameter(f.body)) {
        continue;
      }
      this.#keep(f.raw);
    }
    this.#flush();
  }

  /** Sends what a `hold` exchange kept back. */
  release(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) for (const chunk of held) this.#write(chunk);
  }

  /**
   * Sends what a `hold` exchange kept back, with its final ReadyForQuery replaced by one of
   * `status`, and `before` (whole frames) inserted ahead of it. False, sending nothing, when the
   * held answer does not end with a ReadyForQuery.
   */
  releaseEnding(status: TransactionStatus, before: Buffer): boolean {
    const held = this.#held;
    this.#held = undefined;
    const last = held?.[held.length - 1];
    if (held === undefined || last === undefined || last.length < 6) return false;
    const rfq = last.subarray(last.length - 6);
    if (rfq[0] !== BackendCode.ReadyForQuery || rfq.readInt32BE(1) !== 5) return false;
    for (let i = 0; i < held.length - 1; i++) this.#write(held[i]!);
    if (last.length > 6) this.#write(last.subarray(0, last.length - 6));
    if (before.length > 0) this.#write(before);
    this.#write(Buffer.from([BackendCode.ReadyForQuery, 0, 0, 0, 5, status.charCodeAt(0)]));
    this.lastStatus = status;
    return true;
  }

  /** Drops what a `hold` exchange kept back: the client never sees it. */
  discard(): void {
    this.#held = undefined;
  }

  /** Bytes of an incomplete frame left at the end of the exchange (0 when the backend behaved). */
  get leftover(): number {
    return this.#splitter.bufferedBytes;
  }

  // Frames cut from one received chunk sit side by side in memory: relay them as one write.
  #keep(raw: Buffer): void {
    const p = this.#pending;
    if (p !== undefined && p.buffer === raw.buffer && p.byteOffset + p.length === raw.byteOffset) {
      this.#pending = Buffer.from(p.buffer, p.byteOffset, p.length + raw.length);
      return;
    }
    if (p !== undefined) {
      if (this.#held !== undefined) this.#hold(p);
      else this.#write(p);
    }
    this.#pending = raw;
  }

  #hold(chunk: Buffer): void {
    if (this.holdOverflow) return;
    this.#heldBytes += chunk.length;
    if (this.#heldBytes > this.#maxHeld) {
      this.holdOverflow = true;
      this.#held = [];
      return;
    }
    this.#held!.push(chunk);
  }

  #flush(): void {
    if (this.#pending !== undefined) {
      if (this.#held !== undefined) this.#hold(this.#pending);
      else this.#write(this.#pending);
      this.#pending = undefined;
    }
  }
}
