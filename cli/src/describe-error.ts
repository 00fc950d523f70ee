import { WeftKitError } from '@weftkit/kernel';

/** One line for the terminal: the code and message of a kernel error, else a generic line. */
export function describeError(err: unknown): string {
  if (err instanceof WeftKitError) return `${err.code}: ${err.message}`;
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return `${err.code}: ${err.message}`;
  return 'unexpected error';
}
