// A small evaluator for the subset of Go text/template + Sprig that helm/weftkit uses, so the
// chart can be rendered and checked where no `helm` binary exists. Supported: text with
// `{{- -}}` trimming, comments, `if/else if/else`, `range` (lists and maps, with `$i, $v :=`),
// `with`, `define`/`include`, variables (`:=`, `=`, `$`), pipelines, parenthesised pipelines with
// field chains, and the functions in FUNCTIONS. Anything else is an error, never a silent pass.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

type Value = unknown;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: Pipeline }
  | { kind: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { kind: 'range'; vars: string[]; expr: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: 'with'; expr: Pipeline; body: Node[]; otherwise: Node[] };

interface Pipeline {
  decl?: { vars: string[]; assign: boolean };
  cmds: Operand[][];
}

type Operand =
  | { kind: 'field'; base: string | null; path: string[] } // base: null = dot, '$' or '$name'
  | { kind: 'literal'; value: Value }
  | { kind: 'ident'; name: string }
  | { kind: 'paren'; pipe: Pipeline; path: string[] };

interface Action {
  kind: 'action';
  body: string;
  file: string;
}
type Token = { kind: 'text'; text: string } | Action;

export class TemplateError extends Error {}

function lex(src: string, file: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let trimNext = false;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    let text = open < 0 ? src.slice(pos) : src.slice(pos, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      tokens.push({ kind: 'text', text });
      break;
    }
    const trimLeft = src.startsWith('{{- ', open) || src.startsWith('{{-\n', open);
    if (trimLeft) text = text.replace(/\s+$/, '');
    tokens.push({ kind: 'text', text });
    let start = open + (trimLeft ? 3 : 2);
    // Comments may contain `}}`-free text only up to `*/}}`.
    const comment = src.slice(start).match(/^\s*\/\*/);
    let close: number;
    if (comment) {
      const end = src.indexOf('*/', start);
      if (end < 0) throw new TemplateError(`${file}: unclosed comment`);
      close = src.indexOf('}}', end);
      start = close; // empty body
    } else {
      close = findClose(src, start, file);
    }
    const trimRight = src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '');
    const body = comment ? '' : src.slice(start, trimRight ? close - 1 : close).trim();
    if (!comment) tokens.push({ kind: 'action', body, file });
    trimNext = trimRight;
    pos = close + 2;
  }
  return tokens;
}

function findClose(src: string, from: number, file: string): number {
  let i = from;
  while (i < src.length) {
    const c = src[i];
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
    } else if (c === '`') {
      i = src.indexOf('`', i + 1);
      if (i < 0) break;
    } else if (src.startsWith('}}', i)) {
      return i;
    }
    i++;
  }
  throw new TemplateError(`${file}: unclosed action`);
}

// ---- expressions ----

/** Tokens of an action; a field chain glued to a `)` (no space) comes as `).a.b`. */
function tokenizeExpr(s: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|=|\||\(|\)|,|[^\s|(),=]+)/gy;
  let m: RegExpExecArray | null;
  while (true) {
    const at = re.lastIndex;
    m = re.exec(s);
    if (!m) {
      if (s.slice(at).trim() !== '') throw new TemplateError(`cannot parse expression: ${s}`);
      break;
    }
    const tok = m[1] as string;
    const glued = m[0] === tok && out[out.length - 1] === ')' && tok.startsWith('.') && tok !== '.';
    if (glued) out[out.length - 1] = `)${tok}`;
    else out.push(tok);
  }
  return out;
}

class ExprParser {
  i = 0;
  constructor(
    readonly toks: string[],
    readonly src: string,
  ) {}
  peek(): string | undefined {
    return this.toks[this.i];
  }
  next(): string {
    const t = this.toks[this.i++];
    if (t === undefined) throw new TemplateError(`unexpected end of expression: ${this.src}`);
    return t;
  }
  pipeline(allowDecl: boolean): Pipeline {
    let decl: Pipeline['decl'];
    if (allowDecl && this.peek()?.startsWith('$')) {
      // `$x :=`, `$x =`, `$i, $v :=`
      const save = this.i;
      const vars = [this.next()];
      if (this.peek() === ',') {
        this.next();
        vars.push(this.next());
      }
      const op = this.peek();
      if (op === ':=' || op === '=') {
        this.next();
        decl = { vars, assign: op === '=' };
      } else {
        this.i = save;
      }
    }
    const cmds: Operand[][] = [];
    let cmd: Operand[] = [];
    while (this.peek() !== undefined && !this.peek()?.startsWith(')')) {
      const t = this.peek();
      if (t === '|') {
        this.next();
        if (cmd.length === 0) throw new TemplateError(`empty command in ${this.src}`);
        cmds.push(cmd);
        cmd = [];
        continue;
      }
      cmd.push(this.operand());
    }
    if (cmd.length === 0) throw new TemplateError(`empty pipeline in ${this.src}`);
    cmds.push(cmd);
    return decl ? { decl, cmds } : { cmds };
  }
  operand(): Operand {
    const t = this.next();
    if (t === '(') {
      const pipe = this.pipeline(false);
      const close = this.next();
      if (!close.startsWith(')')) throw new TemplateError(`missing ) in ${this.src}`);
      return { kind: 'paren', pipe, path: close === ')' ? [] : close.slice(2).split('.') };
    }
    if (t.startsWith('"')) return { kind: 'literal', value: JSON.parse(t) };
    if (t.startsWith('`')) return { kind: 'literal', value: t.slice(1, -1) };
    if (/^-?\d/.test(t)) return { kind: 'literal', value: Number(t) };
    if (t === 'true' || t === 'false') return { kind: 'literal', value: t === 'true' };
    if (t === 'nil') return { kind: 'literal', value: null };
    if (t === '.') return { kind: 'field', base: null, path: [] };
    if (t.startsWith('.')) return { kind: 'field', base: null, path: t.slice(1).split('.') };
    if (t.startsWith('$')) {
      const [base, ...path] = t.split('.');
      return { kind: 'field', base: base as string, path };
    }
    if (/^[A-Za-z_]\w*$/.test(t)) return { kind: 'ident', name: t };
    throw new TemplateError(`unexpected token ${t} in ${this.src}`);
  }
}

function parsePipeline(body: string, allowDecl = true): Pipeline {
  const p = new ExprParser(tokenizeExpr(body), body);
  const pipe = p.pipeline(allowDecl);
  if (p.peek() !== undefined) throw new TemplateError(`unexpected ${p.peek()} in ${body}`);
  return pipe;
}

// ---- structure ----

function parseNodes(tokens: Token[], defines: Map<string, Node[]>): Node[] {
  let i = 0;
  const block = (enders: string[]): { nodes: Node[]; ender: string; rest: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const tok = tokens[i++] as Token;
      if (tok.kind === 'text') {
        if (tok.text) nodes.push({ kind: 'text', text: tok.text });
        continue;
      }
      const body = tok.body;
      const word = body.match(/^(\w+)\b\s*(.*)$/s);
      const kw = word?.[1];
      const rest = word?.[2] ?? '';
      if (kw && enders.includes(kw)) return { nodes, ender: kw, rest };
      if (kw === 'if') {
        const branches = [{ cond: parsePipeline(rest), body: [] as Node[] }];
        let otherwise: Node[] = [];
        for (;;) {
          const b = block(['else', 'end']);
          (branches[branches.length - 1] as { body: Node[] }).body = b.nodes;
          if (b.ender === 'end') break;
          const elif = b.rest.match(/^if\s+(.*)$/s);
          if (elif) {
            branches.push({ cond: parsePipeline(elif[1] as string), body: [] });
            continue;
          }
          otherwise = block(['end']).nodes;
          break;
        }
        nodes.push({ kind: 'if', branches, otherwise });
      } else if (kw === 'range' || kw === 'with') {
        const expr = parsePipeline(rest);
        const b = block(['else', 'end']);
        const otherwise = b.ender === 'else' ? block(['end']).nodes : [];
        if (kw === 'range') nodes.push({ kind: 'range', vars: expr.decl?.vars ?? [], expr: { cmds: expr.cmds }, body: b.nodes, otherwise });
        else nodes.push({ kind: 'with', expr, body: b.nodes, otherwise });
      } else if (kw === 'define') {
        const name = JSON.parse(rest.trim()) as string;
        defines.set(name, block(['end']).nodes);
      } else if (kw === 'else' || kw === 'end') {
        throw new TemplateError(`${tok.file}: unexpected {{ ${body} }}`);
      } else if (kw === 'template' || kw === 'block') {
        throw new TemplateError(`${tok.file}: {{ ${kw} }} is not supported; use include`);
      } else {
        nodes.push({ kind: 'output', expr: parsePipeline(body) });
      }
    }
    if (enders.length > 0) throw new TemplateError(`missing {{ end }}`);
    return { nodes, ender: '', rest: '' };
  };
  return block([]).nodes;
}

// ---- evaluation ----

export function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function goString(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(`cannot print a ${Array.isArray(v) ? 'list' : 'map'} (use toYaml)`);
}

function toYaml(v: Value): string {
  if (v === null || v === undefined) return 'null';
  return stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

function sprintf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%[sdvq%]/g, (spec) => {
    if (spec === '%%') return '%';
    const a = args[n++];
    if (spec === '%q') return JSON.stringify(goString(a));
    return goString(a);
  });
}

const indentLines = (n: number, s: string): string =>
  s
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

type Fn = (...args: Value[]) => Value;

interface Scope {
  vars: Map<string, Value>;
  parent?: Scope;
}

export class Renderer {
  readonly defines = new Map<string, Node[]>();
  private readonly functions: Record<string, Fn>;

  constructor() {
    const str = (v: Value): string => goString(v);
    this.functions = {
      include: (name, data) => {
        const body = this.defines.get(str(name));
        if (!body) throw new TemplateError(`include: no template "${str(name)}"`);
        return this.exec(body, data, { vars: new Map([['$', data]]) });
      },
      toYaml: (v) => toYaml(v),
      toJson: (v) => JSON.stringify(v ?? null),
      nindent: (n, s) => `\n${indentLines(Number(n), str(s))}`,
      indent: (n, s) => indentLines(Number(n), str(s)),
      quote: (...vs) => vs.map((v) => JSON.stringify(goString(v))).join(' '),
      squote: (...vs) => vs.map((v) => `'${goString(v)}'`).join(' '),
      default: (d, v) => (truthy(v) ? v : d),
      required: (msg, v) => {
        if (v === null || v === undefined || v === '') throw new TemplateError(str(msg));
        return v;
      },
      fail: (msg) => {
        throw new TemplateError(str(msg));
      },
      printf: (f, ...args) => sprintf(str(f), args),
      print: (...args) => args.map(goString).join(''),
      eq: (a, ...bs) => bs.some((b) => a === b),
      ne: (a, b) => a !== b,
      lt: (a, b) => (a as number) < (b as number),
      gt: (a, b) => (a as number) > (b as number),
      and: (...vs) => vs.find((v) => !truthy(v)) ?? vs[vs.length - 1],
      or: (...vs) => vs.find((v) => truthy(v)) ?? vs[vs.length - 1],
      not: (v) => !truthy(v),
      empty: (v) => !truthy(v),
      list: (...vs) => vs,
      dict: (...kv) => {
        const o: Record<string, Value> = {};
        for (let i = 0; i < kv.length; i += 2) o[str(kv[i])] = kv[i + 1];
        return o;
      },
      index: (v, ...keys) => {
        let cur = v;
        for (const k of keys) {
          if (cur === null || cur === undefined) throw new TemplateError(`index of nil with ${str(k)}`);
          cur = (cur as Record<string, Value>)[str(k)];
        }
        return cur;
      },
      has: (item, list) => Array.isArray(list) && list.includes(item),
      hasKey: (m, k) => typeof m === 'object' && m !== null && Object.hasOwn(m, str(k)),
      join: (sep, list) => (list as Value[]).map(goString).join(str(sep)),
      trunc: (n, s) => str(s).slice(0, Number(n)),
      trimSuffix: (suffix, s) => (str(s).endsWith(str(suffix)) ? str(s).slice(0, -str(suffix).length) : str(s)),
      contains: (sub, s) => str(s).includes(str(sub)),
      replace: (from, to, s) => str(s).split(str(from)).join(str(to)),
      lower: (s) => str(s).toLowerCase(),
      upper: (s) => str(s).toUpperCase(),
      toString: (v: Value) => goString(v),
      sha256sum: (s) => createHash('sha256').update(str(s)).digest('hex'),
    };
  }

  /** Parses a file: collects its `define`s, returns its top-level nodes. */
  parse(src: string, file: string): Node[] {
    return parseNodes(lex(src, file), this.defines);
  }

  render(nodes: Node[], data: Value): string {
    return this.exec(nodes, data, { vars: new Map([['$', data]]) });
  }

  private lookup(scope: Scope, name: string): Value {
    for (let s: Scope | undefined = scope; s; s = s.parent) if (s.vars.has(name)) return s.vars.get(name);
    throw new TemplateError(`undefined variable ${name}`);
  }

  private assign(scope: Scope, name: string, value: Value): void {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      if (s.vars.has(name)) {
        s.vars.set(name, value);
        return;
      }
    }
    throw new TemplateError(`assignment to undeclared ${name}`);
  }

  private field(base: Value, path: string[], where: string): Value {
    let cur = base;
    for (const key of path) {
      // Like Go templates: a missing map key is nil, a field of nil is an error.
      if (cur === null || cur === undefined) throw new TemplateError(`nil pointer evaluating ${where}.${key}`);
      if (typeof cur !== 'object') throw new TemplateError(`can't evaluate field ${key} in ${where}`);
      cur = (cur as Record<string, Value>)[key];
    }
    return cur;
  }

  private operand(op: Operand, dot: Value, scope: Scope): Value {
    switch (op.kind) {
      case 'literal':
        return op.value;
      case 'field': {
        const base = op.base === null ? dot : this.lookup(scope, op.base);
        return this.field(base, op.path, op.base ?? '');
      }
      case 'paren':
        return this.field(this.pipeline(op.pipe, dot, scope), op.path, '(...)');
      case 'ident':
        return this.call(op.name, []);
    }
  }

  private call(name: string, args: Value[]): Value {
    const fn = this.functions[name];
    if (!fn) throw new TemplateError(`function "${name}" not defined`);
    return fn(...args);
  }

  private pipeline(pipe: Pipeline, dot: Value, scope: Scope): Value {
    let value: Value;
    let first = true;
    for (const cmd of pipe.cmds) {
      const [head, ...rest] = cmd as [Operand, ...Operand[]];
      if (head.kind === 'ident') {
        const args = rest.map((o) => this.operand(o, dot, scope));
        if (!first) args.push(value);
        value = this.call(head.name, args);
      } else {
        if (rest.length > 0 || !first) throw new TemplateError('a value cannot take arguments');
        value = this.operand(head, dot, scope);
      }
      first = false;
    }
    if (pipe.decl) {
      const name = pipe.decl.vars[0] as string;
      if (pipe.decl.assign) this.assign(scope, name, value);
      else scope.vars.set(name, value);
    }
    return value;
  }

  private exec(nodes: Node[], dot: Value, scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          out += node.text;
          break;
        case 'output': {
          const v = this.pipeline(node.expr, dot, scope);
          if (!node.expr.decl) out += goString(v);
          break;
        }
        case 'if': {
          const inner: Scope = { vars: new Map(), parent: scope };
          const hit = node.branches.find((b) => truthy(this.pipeline(b.cond, dot, inner)));
          out += this.exec(hit ? hit.body : node.otherwise, dot, inner);
          break;
        }
        case 'with': {
          const inner: Scope = { vars: new Map(), parent: scope };
          const v = this.pipeline(node.expr, dot, inner);
          out += truthy(v) ? this.exec(node.body, v, inner) : this.exec(node.otherwise, dot, inner);
          break;
        }
        case 'range': {
          const v = this.pipeline(node.expr, dot, scope);
          let entries: [Value, Value][];
          if (v === null || v === undefined) entries = [];
          else if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
          else if (typeof v === 'object') entries = Object.keys(v as object).sort().map((k) => [k, (v as Record<string, Value>)[k]]);
          else if (typeof v === 'number') entries = Array.from({ length: v }, (_, i) => [i, i]);
          else throw new TemplateError(`range can't iterate over ${String(v)}`);
          if (entries.length === 0) out += this.exec(node.otherwise, dot, scope);
          for (const [k, item] of entries) {
            const inner: Scope = { vars: new Map(), parent: scope };
            if (node.vars.length === 1) inner.vars.set(node.vars[0] as string, item);
            if (node.vars.length === 2) {
              inner.vars.set(node.vars[0] as string, k);
              inner.vars.set(node.vars[1] as string, item);
            }
            out += this.exec(node.body, item, inner);
          }
          break;
        }
      }
    }
    return out;
  }
}
