// Runs a list of store ops under the caller's permissions. A caller with only INSERT (or only
// UPDATE) on a key gets an implicit create-only (or compare-and-swap) precondition, so the store
// decides atomically whether the PUT was an insert or an update.
import { Action } from '@weftkit/kernel';
import { PreconditionFailed } from '../errors.js';
import type { BatchResult, TenantStore, WriteOp } from '../store/kv-store.js';
import type { AccessControl } from './access-control.js';
import type { RequestState } from './request-state.js';

/** An error that belongs to one op of a batch. */
export class OpFailure extends Error {
  readonly opIndex: number;
  override readonly cause: unknown;
  constructor(cause: unknown, opIndex: number) {
    super('batch op failed');
    this.cause = cause;
    this.opIndex = opIndex;
  }
}

type Injected = 'create' | 'update' | null;

const MAX_ATTEMPTS = 3;

export async function applyOps(
  access: AccessControl,
  state: RequestState,
  store: TenantStore,
  ops: readonly WriteOp[],
  operation: string,
): Promise<BatchResult> {
  const injected: Injected[] = [];
  const planned: WriteOp[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const fail = async (action: number): Promise<never> => {
      throw new OpFailure(await access.denied(state, action, operation, op.key), i);
    };
    if (op.op === 'get') {
      if (!state.policy.authorize(state.ctx, Action.SELECT, op.key)) await fail(Action.SELECT);
      injected.push(null);
      planned.push(op);
    } else if (op.op === 'delete') {
      if (!state.policy.authorize(state.ctx, Action.DELETE, op.key)) await fail(Action.DELETE);
      injected.push(null);
      planned.push(op);
    } else {
      const right = access.writeRight(state, op.key);
      if (right === 'none') await fail(Action.INSERT | Action.UPDATE);
      if (right === 'insert-only') {
        if (op.ifMatch !== undefined) await fail(Action.UPDATE);
        injected.push(op.ifNoneMatch === true ? null : 'create');
        planned.push(op.ifNoneMatch === true ? op : { ...op, ifNoneMatch: true });
      } else if (right === 'update-only') {
        if (op.ifNoneMatch === true) await fail(Action.INSERT);
        injected.push(op.ifMatch === undefined ? 'update' : null);
        planned.push(op);
      } else {
        injected.push(null);
        planned.push(op);
      }
    }
  }
  for (let attempt = 1; ; attempt++) {
    const run = planned.slice();
    for (let i = 0; i < run.length; i++) {
      if (injected[i] !== 'update') continue;
      const op = run[i]!;
      const meta = await store.head(op.key);
      if (meta === null) throw new OpFailure(await access.denied(state, Action.INSERT, operation, op.key), i);
      run[i] = { ...(op as Extract<WriteOp, { op: 'put' }>), ifMatch: meta.version };
    }
    try {
      return await store.batch(run);
    } catch (err) {
      if (!(err instanceof PreconditionFailed)) throw err;
      const i = err.opIndex;
      if (injected[i] === 'create') throw new OpFailure(await access.denied(state, Action.UPDATE, operation, run[i]!.key), i);
      if (injected[i] === 'update' && attempt < MAX_ATTEMPTS) continue;
      throw new OpFailure(err, i);
    }
  }
}
