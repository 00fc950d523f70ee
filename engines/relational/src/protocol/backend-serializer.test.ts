// Backend messages written here are read back by node-postgres' own parser (pg-protocol).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import * as s from './backend-serializer.js';

function pgParse(bytes: Buffer): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  new Parser().parse(bytes, (m: BackendMessage) => out.push(m as unknown as Record<string, unknown>));
  return out;
}

function one(bytes: Buffer): Record<string, unknown> {
  const msgs = pgParse(bytes);
  assert.equal(msgs.length, 1);
  return msgs[0]!;
}

const ALL_FIELDS: s.ErrorFields = {
  severity: 'ERROR',
  code: '42P01',
  message: 'relation "x" does not exist',
  detail: 'detail text',
  hint: 'hint text',
  position: 15,
  internalPosition: 3,
  internalQuery: 'select 1',
  where: 'PL/pgSQL function f() line 1',
  schema: 'public',
  table: 'x',
  column: 'c',
  dataType: 'int4',
  constraint: 'x_pkey',
  file: 'parse_relation.c',
  line: 1392,
  routine: 'parserOpenTable',
};

describe('backend serializer, read by pg-protocol', () => {
  test('authentication messages', () => {
    assert.deepEqual(one(s.authenticationOk()), { name: 'authenticationOk', length: 8 });
    assert.equal(one(s.authenticationCleartextPassword()).name, 'authenticationCleartextPassword');
    const sasl = one(s.authenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']));
    assert.equal(sasl.name, 'authenticationSASL');
    assert.deepEqual(sasl.mechanisms, ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    const cont = one(s.authenticationSASLContinue('r=abc,s=c2FsdA==,i=4096'));
    assert.deepEqual([cont.name, cont.data], ['authenticationSASLContinue', 'r=abc,s=c2FsdA==,i=4096']);
    const fin = one(s.authenticationSASLFinal(Buffer.from('v=c2lnbmF0dXJl')));
    assert.deepEqual([fin.name, fin.data], ['authenticationSASLFinal', 'v=c2lnbmF0dXJl']);
  });

  test('ParameterStatus, BackendKeyData, ReadyForQuery', () => {
    const ps = one(s.parameterStatus('server_version', '17.4 (WeftKit)'));
    assert.deepEqual([ps.name, ps.parameterName, ps.parameterValue], ['parameterStatus', 'server_version', '17.4 (WeftKit)']);
    const key = one(s.backendKeyData(1234, -5));
    assert.deepEqual([key.name, key.processID, key.secretKey], ['backendKeyData', 1234, -5]);
    for (const status of ['I', 'T', 'E'] as const) {
      assert.deepEqual({ ...one(s.readyForQuery(status)) }, { name: 'readyForQuery', length: 5, status });
    }
  });

  test('ErrorResponse with every field', () => {
    const e = one(s.errorResponse(ALL_FIELDS));
    assert.equal(e.name, 'error');
    assert.ok(e instanceof Error);
    assert.equal(e.message, ALL_FIELDS.message);
    for (const k of ['severity', 'code', 'detail', 'hint', 'internalQuery', 'where', 'schema', 'table'] as const) {
      assert.equal(e[k], ALL_FIELDS[k], k);
    }
    for (const k of ['column', 'dataType', 'constraint', 'file', 'routine'] as const) assert.equal(e[k], ALL_FIELDS[k], k);
    assert.deepEqual([e.position, e.internalPosition, e.line], ['15', '3', '1392']);
  });

  test('ErrorResponse carries S and V, and only the fields given', () => {
    const bytes = s.errorResponse({ severity: 'FATAL', code: '28P01', message: 'password authentication failed' });
    assert.equal(bytes.subarray(5).toString('latin1'), 'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0');
    const e = one(bytes);
    assert.deepEqual([e.severity, e.code, e.detail], ['FATAL', '28P01', undefined]);
  });

  test('a NUL inside a field cannot inject another field', () => {
    const e = one(s.errorResponse({ severity: 'ERROR', code: '28000', message: 'user "a\0C00000\0Mok" unknown' }));
    assert.equal(e.code, '28000');
    assert.equal(e.message, 'user "a\uFFFDC00000\uFFFDMok" unknown');
    assert.equal(one(s.commandComplete('SELECT\0 1')).text, 'SELECT\uFFFD 1');
  });

  test('a malformed SQLSTATE is sent as XX000', () => {
    for (const code of ['', '4250', '425011', '42p01', '42\0P1']) {
      assert.equal(one(s.errorResponse({ severity: 'ERROR', code, message: 'm' })).code, 'XX000', code);
    }
  });

  test('NoticeResponse', () => {
    const n = one(s.noticeResponse({ severity: 'WARNING', code: '01000', message: 'careful', hint: 'h' }));
    assert.deepEqual([n.name, n.message, n.severity, n.code, n.hint], ['notice', 'careful', 'WARNING', '01000', 'h']);
  });

  test('CommandComplete, EmptyQueryResponse, the extended-protocol acknowledgements', () => {
    assert.deepEqual({ ...one(s.commandComplete('INSERT 0 3')) }, { name: 'commandComplete', length: 15, text: 'INSERT 0 3' });
    assert.equal(one(s.emptyQueryResponse()).name, 'emptyQuery');
    assert.equal(one(s.parseComplete()).name, 'parseComplete');
    assert.equal(one(s.bindComplete()).name, 'bindComplete');
    assert.equal(one(s.closeComplete()).name, 'closeComplete');
    assert.equal(one(s.noData()).name, 'noData');
  });

  test('RowDescription and DataRow', () => {
    const rd = one(
      s.rowDescription([
        { name: 'id', tableOid: 3000000001, columnNumber: 1, typeOid: 23, typeSize: 4 },
        { name: 'naïve', typeOid: 3000000003, typeSize: -1, typeModifier: 68, format: 1 },
      ]),
    );
    assert.equal(rd.name, 'rowDescription');
    const fields = rd.fields as Record<string, unknown>[];
    assert.deepEqual(
      fields.map((f) => [f.name, f.tableID, f.columnID, f.dataTypeID, f.dataTypeSize, f.dataTypeModifier, f.format]),
      [
        ['id', 3000000001, 1, 23, 4, -1, 'text'],
        ['naïve', 0, 0, 3000000003, -1, 68, 'binary'],
      ],
    );
    const row = one(s.dataRow(['1', null, 'é', Buffer.from('raw'), '']));
    assert.deepEqual([row.name, row.fields], ['dataRow', ['1', null, 'é', 'raw', '']]);
    assert.deepEqual(one(s.dataRow([])).fields, []);
  });

  test('ParameterDescription', () => {
    const pd = one(s.parameterDescription([23, 25, 3000000000]));
    assert.deepEqual([pd.name, pd.dataTypeIDs], ['parameterDescription', [23, 25, 3000000000]]);
  });

  test('every message in one stream, split at every byte position', () => {
    const parts = [
      s.authenticationSASL(['SCRAM-SHA-256']),
      s.authenticationSASLFinal('v=x'),
      s.authenticationOk(),
      s.parameterStatus('client_encoding', 'UTF8'),
      s.backendKeyData(1, 2),
      s.readyForQuery('I'),
      s.rowDescription([{ name: 'a', typeOid: 25, typeSize: -1 }]),
      s.dataRow(['x', null]),
      s.commandComplete('SELECT 1'),
      s.errorResponse(ALL_FIELDS),
      s.noticeResponse({ severity: 'NOTICE', code: '00000', message: 'n' }),
      s.parseComplete(),
      s.parameterDescription([23]),
      s.noData(),
      s.bindComplete(),
      s.emptyQueryResponse(),
      s.closeComplete(),
      s.readyForQuery('T'),
    ];
    const all = Buffer.concat(parts);
    const whole = pgParse(all);
    assert.equal(whole.length, parts.length);
    const names = whole.map((m) => m.name);
    for (let i = 0; i <= all.length; i++) {
      const p = new Parser();
      const got: string[] = [];
      // Copies: pg-protocol's Parser compacts into the chunk it was given, overwriting `all`.
      p.parse(Buffer.from(all.subarray(0, i)), (m: BackendMessage) => got.push(m.name));
      p.parse(Buffer.from(all.subarray(i)), (m: BackendMessage) => got.push(m.name));
      assert.deepEqual(got, names, `split at ${i}`);
    }
  });
});

describe('answers pg-protocol does not parse', () => {
  test('NegotiateProtocolVersion: newest minor and unrecognised options', () => {
    const b = s.negotiateProtocolVersion(0, ['_pq_.compression', '_pq_.x']);
    assert.equal(b.toString('latin1', 0, 1), 'v');
    assert.equal(b.readInt32BE(1), b.length - 1);
    assert.equal(b.readInt32BE(5), 0);
    assert.equal(b.readInt32BE(9), 2);
    assert.equal(b.toString('utf8', 13), '_pq_.compression\0_pq_.x\0');
  });

  test('the single bytes answering SSLRequest and GSSENCRequest', () => {
    assert.deepEqual(s.sslResponse(true), Buffer.from('S'));
    assert.deepEqual(s.sslResponse(false), Buffer.from('N'));
    assert.deepEqual(s.gssEncResponse(), Buffer.from('N'));
  });
});
