// Authorization check cost: the compiled policy against the naive way (role sets of action
// strings, resource patterns as a list of RegExps) in the same run. ns/check, lower is better.
import { Action, type Policy, parsePolicy } from '../kernel/src/authz/index.js';
import { mintSecurityContext, type SecurityContext } from '../kernel/src/identity/security-context.js';
import { printRows, type Row } from './lib/report.js';

const N = Number(process.argv[2] ?? 10_000_000);
const PEER_N = Math.max(1_000_000, Math.floor(N / 10));
const RUNS = 5;

const patterns: string[] = [];
for (let i = 0; i < 20; i++) patterns.push(`public.table_${i}`);
for (let i = 0; i < 25; i++) patterns.push(`tenant-${i}:*`);
for (let i = 0; i < 5; i++) patterns.push(`log:*:${i}`);

const rolesYaml = `
- name: analyst
  allow: [SELECT, "COPY TO"]
  deny: [INSERT, UPDATE, DELETE]
- name: scoped_reader
  allow: [SELECT]
  on: [${patterns.map((p) => JSON.stringify(p)).join(', ')}]
`;
const policy = parsePolicy(rolesYaml, 'bench-roles.yaml');

function context(roles: string[]): SecurityContext {
  return mintSecurityContext({ identity: 'bench', tenant: 'tenant-001', roles, authMethod: 'password', peer: '127.0.0.1:1' });
}

// 1024 resources per set, cycled with `i & 1023`; the peer loops read them the same way.
const matching: string[] = [];
const missing: string[] = [];
for (let i = 0; i < 1024; i++) {
  const k = i % 3;
  matching.push(k === 0 ? `public.table_${i % 20}` : k === 1 ? `tenant-${i % 25}:key:${i}` : `log:eu:${i % 5}`);
  missing.push(k === 0 ? `public.other_${i % 20}` : k === 1 ? `tenant-x${i % 25}:key:${i}` : `log:eu:${5 + (i % 5)}`);
}

// The naive peer: each role a pair of Sets of action names, patterns as anchored RegExps.
interface NaiveRole {
  allow: Set<string>;
  deny: Set<string>;
  on: RegExp[] | null;
}
const naiveRoles = new Map<string, NaiveRole>([
  ['read_write', { allow: new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE']), deny: new Set(), on: null }],
  [
    'scoped_reader',
    {
      allow: new Set(['SELECT']),
      deny: new Set(),
      on: patterns.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`)),
    },
  ],
]);
function naiveAuthorize(roles: readonly string[], action: string, resource?: string): boolean {
  let allowed = false;
  for (const name of roles) {
    const role = naiveRoles.get(name);
    if (role === undefined) continue;
    if (role.on !== null && (resource === undefined || !role.on.some((re) => re.test(resource)))) continue;
    if (role.deny.has(action)) return false;
    if (role.allow.has(action)) allowed = true;
  }
  return allowed;
}
const rawSet = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE']);

function time(loop: (n: number) => number, n: number, expect: number): number {
  loop(Math.min(n, 1_000_000));
  const samples: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    const hits = loop(n);
    const ns = Number(process.hrtime.bigint() - t0);
    if (hits !== Math.round(n * expect)) throw new Error(`unexpected result count ${hits} of ${n}`);
    samples.push(ns / n);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

// Each loop is its own function so the JIT sees one call site; the hit count keeps it live.
function builtinLoop(p: Policy, ctx: SecurityContext) {
  return (n: number): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (p.authorize(ctx, Action.SELECT)) hits++;
    return hits;
  };
}
function builtinTableLoop(p: Policy, ctx: SecurityContext, resources: string[]) {
  return (n: number): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (p.authorize(ctx, Action.SELECT, resources[i & 1023])) hits++;
    return hits;
  };
}
function interleavedLoop(p: Policy, contexts: SecurityContext[]) {
  return (n: number): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (p.authorize(contexts[i & 1023]!, Action.SELECT)) hits++;
    return hits;
  };
}
function patternLoop(p: Policy, ctx: SecurityContext, resources: string[]) {
  return (n: number): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (p.authorize(ctx, Action.SELECT, resources[i & 1023])) hits++;
    return hits;
  };
}
function naiveLoop(roles: readonly string[], resources: string[] | null) {
  return (n: number): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (naiveAuthorize(roles, 'SELECT', resources === null ? undefined : resources[i & 1023])) hits++;
    return hits;
  };
}
function rawSetLoop() {
  const actions = ['SELECT', 'SELECT'];
  return (n: number): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (rawSet.has(actions[i & 1]!)) hits++;
    return hits;
  };
}

const rw = context(['read_write']);
const scoped = context(['scoped_reader']);
const many = Array.from({ length: 1024 }, (_, i) => context(i % 2 === 0 ? ['read_write'] : ['read_only']));
const tables = Array.from({ length: 1024 }, (_, i) => `public.t${i}`);

const naiveBuiltin = time(naiveLoop(rw.roles, null), N, 1);
const rawBuiltin = time(rawSetLoop(), N, 1);
const rows: Row[] = [
  { name: 'read_write SELECT, no resource', value: time(builtinLoop(policy, rw), N, 1), unit: 'ns/check', peer: naiveBuiltin, higherIsBetter: false },
  { name: '  same, vs a bare Set.has of the action string', value: time(builtinLoop(policy, rw), N, 1), unit: 'ns/check', peer: rawBuiltin, higherIsBetter: false },
  { name: 'read_write SELECT on a table', value: time(builtinTableLoop(policy, rw, tables), N, 1), unit: 'ns/check', peer: naiveBuiltin, higherIsBetter: false },
  { name: '1024 interleaved contexts (WeakMap path)', value: time(interleavedLoop(policy, many), N, 1), unit: 'ns/check', peer: naiveBuiltin, higherIsBetter: false },
  {
    name: '50 patterns, matching resource',
    value: time(patternLoop(policy, scoped, matching), N, 1),
    unit: 'ns/check',
    peer: time(naiveLoop(scoped.roles, matching), PEER_N, 1),
    higherIsBetter: false,
  },
  {
    name: '50 patterns, non-matching resource',
    value: time(patternLoop(policy, scoped, missing), N, 0),
    unit: 'ns/check',
    peer: time(naiveLoop(scoped.roles, missing), PEER_N, 0),
    higherIsBetter: false,
  },
];
printRows(
  `authz: ${N.toLocaleString('en')} checks per row (peer rows with patterns: ${PEER_N.toLocaleString('en')}), median of ${RUNS}; peer = naive role Sets + RegExp list`,
  rows,
);
