// Recognises COPY ... FROM STDIN before it reaches the executor. PGlite cannot take a COPY's data in
// a later call (the backend reads EOF, exits, and every later call hangs), so the session must see
// every such statement, answer CopyInResponse itself and send statement + data in one exchange.
// The check is deliberately conservative: anything that might be a COPY FROM STDIN and is not the
// one plain form below is refused, never forwarded.

export type CopyInVerdict =
  /** Not a COPY FROM STDIN: forward as usual. */
  | { readonly kind: 'none' }
  /** Exactly one statement, a COPY FROM STDIN: 0 text/csv, 1 binary. */
  | { readonly kind: 'copy'; readonly format: 0 | 1 }
  /** Might contain a COPY FROM STDIN the session cannot run safely. */
  | { readonly kind: 'refuse' };

const NONE: CopyInVerdict = Object.freeze({ kind: 'none' });
const REFUSE: CopyInVerdict = Object.freeze({ kind: 'refuse' });
const COPY_TEXT: CopyInVerdict = Object.freeze({ kind: 'copy', format: 0 });
const COPY_BINARY: CopyInVerdict = Object.freeze({ kind: 'copy', format: 1 });

const COPY_WORD = /\bcopy\b/i;
const STDIN_WORD = /\bstdin\b/i;
const WORD_CHAR = /[A-Za-z0-9_]/;

/**
 * Splits SQL into statements of lowercased tokens: words, `'` + a string's text, `"ident"` for a
 * quoted identifier, punctuation. Returns undefined for an unterminated string or comment,
 * which PostgreSQL rejects as a syntax error before running anything.
 */
function statements(sql: string): string[][] | undefined {
  const out: string[][] = [];
  let current: string[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === ';') {
      if (current.length > 0) out.push(current);
      current = [];
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= n) return undefined;
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'" || c === '"') {
      // Doubled quotes escape; backslashes never reach here (refused by the caller).
      const open = ++i;
      for (;;) {
        if (i >= n) return undefined;
        if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      current.push(c === "'" ? `'${sql.slice(open, i).toLowerCase()}` : '"ident"');
      i++;
    } else if (WORD_CHAR.test(c) || c.charCodeAt(0) > 0x7f) {
      const start = i;
      while (i < n && (WORD_CHAR.test(sql[i]!) || sql.charCodeAt(i) > 0x7f)) i++;
      current.push(sql.slice(start, i).toLowerCase());
    } else {
      if (!/\s/.test(c)) current.push(c);
      i++;
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

function isCopyFromStdin(tokens: readonly string[]): boolean {
  if (tokens[0] !== 'copy') return false;
  for (let i = 1; i + 1 < tokens.length; i++) if (tokens[i] === 'from' && tokens[i + 1] === 'stdin') return true;
  return false;
}

function isBinary(tokens: readonly string[]): boolean {
  for (let i = 1; i < tokens.length; i++) {
    if (tokens[i] !== 'binary' && tokens[i] !== "'binary") continue;
    // `COPY BINARY t`, `WITH BINARY`, `FORMAT binary` / `(FORMAT 'binary')` all mean binary.
    const prev = tokens[i - 1];
    if (prev === 'copy' || prev === 'with' || prev === 'format' || prev === 'stdin') return true;
  }
  return false;
}

/** For a simple Query: whether it is, holds, or might hold a COPY FROM STDIN. */
export function copyInVerdict(sql: string): CopyInVerdict {
  if (!COPY_WORD.test(sql) || !STDIN_WORD.test(sql)) return NONE;
  // Backslash escapes (standard_conforming_strings off, E'', U&'') and dollar quotes can hide
  // statement boundaries from a simple lexer: such a text is refused rather than guessed at.
  if (sql.includes('\\') || sql.includes('$')) return REFUSE;
  const parsed = statements(sql);
  if (parsed === undefined) return NONE;
  const copies = parsed.filter(isCopyFromStdin);
  if (copies.length === 0) return NONE;
  if (parsed.length !== 1) return REFUSE;
  return isBinary(copies[0]!) ? COPY_BINARY : COPY_TEXT;
}

/** For a Parse: true if the statement might be a COPY FROM STDIN (refused in the extended protocol). */
export function mightCopyIn(sql: string): boolean {
  return copyInVerdict(sql).kind !== 'none';
}
