// Parses and validates roles.yaml. A top-level list holds roles only (the seed format); a map may
// hold `roles:` and `users:`. Any problem is one RolesFileInvalid naming the file and line.
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { RolesFileInvalid } from '../errors.js';
import type { IdentityBinding } from '../identity/bindings.js';
import { isTenantName } from '../identity/tenant.js';
import { ACTION_NAMES, actionBit } from './actions.js';
import { BUILTIN_ROLES, type RoleDefinition } from './builtin-roles.js';

/** What a roles file defines, validated: custom roles (built-ins not included) and user bindings. */
export interface RolesFile {
  readonly roles: readonly RoleDefinition[];
  readonly users: ReadonlyMap<string, IdentityBinding>;
}

const ROLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;
const ROLE_KEYS = new Set(['name', 'allow', 'deny', 'on']);
const USER_KEYS = new Set(['roles', 'tenants', 'default_tenant']);
const TOP_KEYS = new Set(['roles', 'users']);
const BUILTIN_NAMES = new Set(BUILTIN_ROLES.map((r) => r.name));

/** Parses `text` (the content of `file`, used only in messages). Empty text defines nothing. */
export function parseRolesFile(text: string, file: string): RolesFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const reader: Reader = new Reader(file, lineCounter);
  const err = doc.errors[0];
  // An error found at end of input (an unclosed bracket) points at the last line with text.
  if (err !== undefined) reader.fail(Math.max(0, Math.min(err.pos[0], text.trimEnd().length - 1)), `malformed YAML: ${err.message}`);

  const top = doc.contents;
  if (top === null || (isScalar(top) && top.value === null)) return { roles: [], users: new Map() };
  let rolesNode: unknown = null;
  let usersNode: unknown = null;
  if (isSeq(top)) {
    rolesNode = top;
  } else if (isMap(top)) {
    const fields = reader.fields(top, TOP_KEYS, 'top level');
    rolesNode = fields.get('roles') ?? null;
    usersNode = fields.get('users') ?? null;
  } else {
    reader.fail(reader.at(top), 'the top level must be a list of roles, or a map with roles: and users:');
  }

  const roles: RoleDefinition[] = [];
  const roleLines = new Map<string, number>();
  for (const item of reader.list(rolesNode, 'roles', top)) roles.push(readRole(reader, item, roleLines));
  const users = readUsers(reader, usersNode, top, (name) => BUILTIN_NAMES.has(name) || roleLines.has(name));
  return { roles, users };
}

function readRole(reader: Reader, node: unknown, seen: Map<string, number>): RoleDefinition {
  if (!isMap(node)) reader.fail(reader.at(node), 'a role must be a map with name: and allow:/deny:/on:');
  const fields = reader.fields(node, ROLE_KEYS, 'role');
  const nameNode = fields.get('name');
  if (nameNode === undefined) reader.fail(reader.at(node), 'role has no name:');
  const name = reader.string(nameNode, 'role name');
  const nameAt = reader.at(nameNode);
  if (!ROLE_NAME.test(name)) reader.fail(nameAt, `role name '${name}' is not valid (letters, digits, _ . : -)`);
  if (BUILTIN_NAMES.has(name)) reader.fail(nameAt, `role '${name}' is built in and cannot be redefined`);
  const first = seen.get(name);
  if (first !== undefined) reader.fail(nameAt, `duplicate role '${name}' (first defined at line ${first})`);
  seen.set(name, reader.line(nameAt));

  const allow = readActions(reader, fields.get('allow'), node);
  const deny = readActions(reader, fields.get('deny'), node);
  const onNode = fields.get('on');
  if (onNode === undefined) return Object.freeze({ name, allow, deny });
  const on = reader.list(onNode, 'on', node).map((p) => {
    const pattern = reader.string(p, 'resource pattern');
    if (pattern.length === 0) reader.fail(reader.at(p), 'a resource pattern cannot be empty');
    return pattern;
  });
  if (on.length === 0) reader.fail(reader.at(onNode), `role '${name}' has an empty on: list (omit on: to apply everywhere)`);
  return Object.freeze({ name, allow, deny, on: Object.freeze(on) });
}

function readActions(reader: Reader, node: unknown, parent: unknown): number {
  let bits = 0;
  for (const item of reader.list(node ?? null, 'actions', parent)) {
    const name = reader.string(item, 'action');
    const bit = actionBit(name);
    if (bit === 0) reader.fail(reader.at(item), `unknown action '${name}' (known: ${ACTION_NAMES.join(', ')})`);
    bits |= bit;
  }
  return bits;
}

function readUsers(
  reader: Reader,
  node: unknown,
  parent: unknown,
  roleExists: (name: string) => boolean,
): Map<string, IdentityBinding> {
  const users = new Map<string, IdentityBinding>();
  if (node === null || (isScalar(node) && node.value === null)) return users;
  if (!isMap(node)) reader.fail(reader.at(node ?? parent), 'users: must be a map of user name to { roles, tenants }');
  for (const pair of node.items) {
    const name = reader.string(pair.key, 'user name');
    if (name.length === 0) reader.fail(reader.at(pair.key), 'a user name cannot be empty');
    if (users.has(name)) reader.fail(reader.at(pair.key), `duplicate user '${name}'`);
    const value = pair.value;
    if (!isMap(value)) reader.fail(reader.at(value ?? pair.key), `user '${name}' must be a map with roles: and tenants:`);
    const fields = reader.fields(value, USER_KEYS, `user '${name}'`);

    const roles = reader.list(fields.get('roles') ?? null, 'roles', value).map((r) => {
      const role = reader.string(r, 'role name');
      if (!roleExists(role)) reader.fail(reader.at(r), `user '${name}' has unknown role '${role}'`);
      return role;
    });
    const tenantsNode = fields.get('tenants');
    if (tenantsNode === undefined) reader.fail(reader.at(value), `user '${name}' has no tenants:`);
    const tenants = reader.list(tenantsNode, 'tenants', value).map((t) => {
      const tenant = reader.string(t, 'tenant');
      if (tenant !== '*' && !isTenantName(tenant)) reader.fail(reader.at(t), `user '${name}' has an invalid tenant name`);
      return tenant;
    });
    if (tenants.length === 0) reader.fail(reader.at(tenantsNode), `user '${name}' has an empty tenants: list`);

    const defaultNode = fields.get('default_tenant');
    let defaultTenant: string | undefined;
    if (defaultNode !== undefined) {
      defaultTenant = reader.string(defaultNode, 'default_tenant');
      if (!isTenantName(defaultTenant)) reader.fail(reader.at(defaultNode), `user '${name}' has an invalid default_tenant`);
      if (!tenants.includes(defaultTenant) && !tenants.includes('*')) {
        reader.fail(reader.at(defaultNode), `user '${name}' has a default_tenant that is not in tenants:`);
      }
    }
    const binding: IdentityBinding = {
      roles: Object.freeze(roles),
      tenants: Object.freeze(tenants),
      ...(defaultTenant === undefined ? {} : { defaultTenant }),
    };
    users.set(name, Object.freeze(binding));
  }
  return users;
}

// Node access with line numbers. `fail` takes an offset from `at` (or a yaml error position).
class Reader {
  readonly #file: string;
  readonly #lines: LineCounter;

  constructor(file: string, lines: LineCounter) {
    this.#file = file;
    this.#lines = lines;
  }

  line(offset: number): number {
    return this.#lines.linePos(offset).line;
  }

  fail(offset: number, reason: string): never {
    throw new RolesFileInvalid(this.#file, this.line(offset), reason);
  }

  /** The source offset of a node (0 when the node has no position). */
  at(node: unknown): number {
    const range = (node as Node | null | undefined)?.range;
    return range?.[0] ?? 0;
  }

  string(node: unknown, what: string): string {
    this.#noAlias(node);
    if (!isScalar(node) || typeof node.value !== 'string') this.fail(this.at(node), `${what} must be a string`);
    return node.value;
  }

  /** Items of a sequence; an empty value (`allow:`) is an empty list. */
  list(node: unknown, what: string, parent: unknown): unknown[] {
    this.#noAlias(node);
    if (node === null || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) this.fail(this.at(node ?? parent), `${what} must be a list`);
    for (const item of node.items) this.#noAlias(item);
    return node.items;
  }

  /** The values of a map's keys, refusing any key not in `allowed`. */
  fields(map: YAMLMap, allowed: ReadonlySet<string>, what: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const pair of map.items) {
      const key = this.string(pair.key, `${what} key`);
      if (!allowed.has(key)) this.fail(this.at(pair.key), `unknown key '${key}' in ${what} (allowed: ${[...allowed].join(', ')})`);
      this.#noAlias(pair.value);
      out.set(key, pair.value ?? null);
    }
    return out;
  }

  #noAlias(node: unknown): void {
    if (isAlias(node)) this.fail(this.at(node), 'YAML aliases are not supported in the roles file');
  }
}
