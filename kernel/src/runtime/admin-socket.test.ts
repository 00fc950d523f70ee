import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openAuditLog } from '../audit/audit-log.js';
import { AdminInvalidArgument } from '../errors.js';
import { silentLogger } from '../log/logger.js';
import { adminSocketFits, startAdminSocket } from './admin-socket.js';

/** A line-oriented client: send raw bytes, read reply lines. */
// biome-ignore lint/suspicious/noExplicitAny: test JSON
async function connect(path: string): Promise<{ send(raw: string | Buffer): void; next(): Promise<any>; closed: Promise<void>; socket: Socket }> {
  const socket = createConnection(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  socket.on('data', (d) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    socket,
    closed,
    send: (raw) => socket.write(raw),
    next: () => new Promise((resolve) => {
      const l = lines.shift();
      if (l !== undefined) resolve(JSON.parse(l));
      else waiters.push((x) => resolve(JSON.parse(x)));
    }),
  };
}

describe('admin socket', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wk-adm-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('answers registered commands, audits each durably, and is mode 0600', async () => {
    const data = join(dir, 'a');
    await mkdir(data, { mode: 0o700 });
    const auditFile = join(dir, 'audit-a.jsonl');
    const audit = await openAuditLog({ output: auditFile, events: ['admin'] });
    const admin = await startAdminSocket({ dataDir: data, logger: silentLogger, audit });
    try {
      assert.equal((await stat(admin.path)).mode & 0o777, 0o600);
      assert.ok((await stat(admin.path)).isSocket());
      admin.register('tenant.echo', async (args, ctx) => ({ result: { got: args.tenant, who: ctx.identity }, audit: { count: 2 } }));
      admin.register('tenant.fail', async () => {
        throw new AdminInvalidArgument('bad tenant');
      });
      admin.register('tenant.crash', async () => {
        throw new Error('internal detail /secret/path');
      });
      assert.throws(() => admin.register('tenant.echo', async () => ({ result: {} })), TypeError);
      const c = await connect(admin.path);
      c.send('{"id":1,"command":"tenant.echo","args":{"tenant":"acme"}}\n{"id":2,"command":"tenant.fail","args":{"tenant":"acme"}}\n');
      assert.deepEqual(await c.next(), { id: 1, ok: true, result: { got: 'acme', who: 'local-socket' } });
      assert.deepEqual(await c.next(), { id: 2, ok: false, error: { code: 'WK_ADMIN_INVALID_ARGUMENT', message: 'bad tenant' } });
      c.send('{"id":3,"command":"tenant.crash"}\n');
      const crash = await c.next();
      assert.equal(crash.error.code, 'WK_INTERNAL');
      assert.ok(!JSON.stringify(crash).includes('secret'));
      c.socket.destroy();
      const events = (await readFile(auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(
        events.map((e) => [e.event, e.operation, e.resource, e.result, e.identity, e.error_code ?? null]),
        [
          ['admin', 'tenant.echo', 'acme', 'success', 'local-socket', null],
          ['admin', 'tenant.fail', 'acme', 'failure', 'local-socket', 'WK_ADMIN_INVALID_ARGUMENT'],
          ['admin', 'tenant.crash', 'engine', 'failure', 'local-socket', 'WK_INTERNAL'],
        ],
      );
      assert.equal(events[0].details.count, 2);
      assert.equal(events[0].details.via, 'admin-socket');
    } finally {
      await admin.close();
      await audit.close();
    }
    await assert.rejects(stat(join(data, 'admin.sock')), { code: 'ENOENT' });
  });

  test('unknown commands, malformed and oversized lines are coded errors; nothing brings the engine down', async () => {
    const data = join(dir, 'b');
    await mkdir(data, { mode: 0o700 });
    const admin = await startAdminSocket({ dataDir: data, logger: silentLogger });
    try {
      admin.register('tenant.list', async () => ({ result: { tenants: [] } }));
      const c = await connect(admin.path);
      c.send('{"id":1,"command":"keys.nope"}\nnot json\n{"id":"x","command":"tenant.list"}\n');
      assert.equal((await c.next()).error.code, 'WK_ADMIN_UNKNOWN_COMMAND');
      const bad = await c.next();
      assert.deepEqual([bad.id, bad.error.code], [null, 'WK_ADMIN_REQUEST_MALFORMED']);
      assert.deepEqual(await c.next(), { id: 'x', ok: true, result: { tenants: [] } });

      const big = await connect(admin.path);
      big.send(Buffer.alloc(64 * 1024 + 1, 0x61));
      assert.equal((await big.next()).error.code, 'WK_ADMIN_REQUEST_TOO_LARGE');
      await big.closed;

      const rude = await connect(admin.path);
      rude.send('{"id":1,"command":"tenant.li');
      rude.socket.destroy();
      const again = await connect(admin.path);
      again.send('{"id":9,"command":"tenant.list"}\n');
      assert.equal((await again.next()).ok, true);
      again.socket.destroy();
      c.socket.destroy();
    } finally {
      await admin.close();
    }
  });

  test('replaces a stale socket; refuses a symlink or a regular file at the path', async () => {
    const data = join(dir, 'c');
    await mkdir(data, { mode: 0o700 });
    // A killed engine leaves its socket file behind with nobody listening.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(join(data, 'admin.sock'))}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((r) => child.on('exit', r));
    assert.ok((await lstat(join(data, 'admin.sock'))).isSocket());
    const admin = await startAdminSocket({ dataDir: data, logger: silentLogger });
    admin.register('tenant.list', async () => ({ result: {} }));
    const c = await connect(admin.path);
    c.send('{"id":1,"command":"tenant.list"}\n');
    assert.equal((await c.next()).ok, true);
    c.socket.destroy();
    await admin.close();

    await writeFile(join(data, 'admin.sock'), 'x');
    await assert.rejects(startAdminSocket({ dataDir: data, logger: silentLogger }), { code: 'WK_ADMIN_SOCKET_UNSAFE' });
    await rm(join(data, 'admin.sock'));
    await symlink(join(dir, 'elsewhere.sock'), join(data, 'admin.sock'));
    await assert.rejects(startAdminSocket({ dataDir: data, logger: silentLogger }), { code: 'WK_ADMIN_SOCKET_UNSAFE' });
  });
});

test('a data directory too long for a socket address is refused before binding (Node would truncate it)', async () => {
  const long = join(tmpdir(), 'd'.repeat(100));
  assert.equal(adminSocketFits(long), false);
  assert.equal(adminSocketFits('/var/lib/weftkit'), true);
  await assert.rejects(startAdminSocket({ dataDir: long, logger: silentLogger }), RangeError);
});
