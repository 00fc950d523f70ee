// The "shape" of a SQL string with its plain integer literals cut out, so `... WHERE aid = 17` and
// `... WHERE aid = 4242` share one classification (pgbench and ORMs that inline numbers send a new
// text per call). Safe by construction, not by trusting this scanner:
// - a hole is a maximal run of ASCII digits whose neighbours cannot extend a PostgreSQL token
//   (no letter, digit, `_`, `.` on either side), and the key is the text with each hole replaced
//   by NUL (which no SQL text holds). Two strings with one key differ only in those digit runs;
// - a shape is cached only after PostgreSQL's grammar (libpg-query) has put a numeric constant
//   (A_Const with ival/fval) at every hole of the first string (or at the minus sign it folded
//   into one). The text before each hole is the
//   same in both strings, so PostgreSQL's lexer is in the same state there and reads the other
//   digits as an integer constant too: the trees differ only in constant values, which the
//   classifier never reads (it reads string constants, which are never holes).
// If the scanner misreads a quote or comment, a hole lands where the tree has no numeric constant
// and the shape is not cached: a mistake costs a cache miss, never a wrong classification.
import { isTree } from './names.js';

/** Anything but printable ASCII and ordinary whitespace, and `$` (dollar quoting, parameters). */
const UNSHAPED = /[^\t\n\v\f\r -#%-~]/;

export interface NumericShape {
  /** The text with each hole replaced by NUL. */
  readonly key: string;
  /** Offset of each hole (characters = UTF-8 bytes: the text is ASCII). */
  readonly holes: readonly number[];
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Characters that continue an identifier or a number next to a digit run. */
function extendsToken(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e;
}

/** The shape of `sql`, or undefined when it has no holes or holds characters the scanner leaves alone. */
export function numericShape(sql: string): NumericShape | undefined {
  if (UNSHAPED.test(sql)) return undefined;
  const n = sql.length;
  const holes: number[] = [];
  let key = '';
  let from = 0;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 0x27 || c === 0x22) {
      // '...' or "...", a doubled quote inside
      i++;
      for (;;) {
        if (i >= n) return undefined;
        if (sql.charCodeAt(i) === c) {
          if (sql.charCodeAt(i + 1) === c) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
    } else if (c === 0x2d && sql.charCodeAt(i + 1) === 0x2d) {
      i += 2;
      while (i < n && sql.charCodeAt(i) !== 0x0a && sql.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
      // /* comments */ nest in PostgreSQL
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= n) return undefined;
        const d = sql.charCodeAt(i);
        if (d === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
          depth++;
          i += 2;
        } else if (d === 0x2a && sql.charCodeAt(i + 1) === 0x2f) {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (isDigit(c)) {
      const start = i;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      if ((start > 0 && extendsToken(sql.charCodeAt(start - 1))) || (i < n && extendsToken(sql.charCodeAt(i)))) continue;
      key += `${sql.slice(from, start)}\0`;
      from = i;
      holes.push(start);
    } else if (extendsToken(c)) {
      // an identifier or keyword: digits inside it are not holes
      i++;
      while (i < n && extendsToken(sql.charCodeAt(i))) i++;
    } else i++;
  }
  if (holes.length === 0) return undefined;
  return { key: key + sql.slice(from), holes };
}

/**
 * True when every hole of `sql` starts a numeric constant (A_Const with ival or fval) in `tree`,
 * or is the number of one folded with a minus sign (`+ -5`: the constant starts at the `-`, with
 * only whitespace before the digits; the grammar folds any number there the same way).
 */
export function holesAreNumericConstants(tree: unknown, sql: string, holes: readonly number[]): boolean {
  const found = new Set<number>();
  collectNumericConstants(tree, found);
  for (const h of holes) {
    if (found.has(h)) continue;
    let at = h - 1;
    while (at >= 0 && WHITESPACE.has(sql.charCodeAt(at))) at--;
    if (at < 0 || sql.charCodeAt(at) !== 0x2d || !found.has(at)) return false;
  }
  return true;
}

const WHITESPACE: ReadonlySet<number> = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

function collectNumericConstants(v: unknown, out: Set<number>): void {
  if (Array.isArray(v)) {
    for (const item of v) collectNumericConstants(item, out);
    return;
  }
  if (!isTree(v)) return;
  const c = v.A_Const;
  if (isTree(c) && (c.ival !== undefined || c.fval !== undefined) && typeof c.location === 'number') out.add(c.location);
  for (const key in v) {
    const child = v[key];
    if (typeof child === 'object' && child !== null) collectNumericConstants(child, out);
  }
}
