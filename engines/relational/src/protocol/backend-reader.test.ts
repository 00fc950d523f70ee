import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BackendFrameSplitter,
  readCommandComplete,
  readDataRow,
  readErrorFields,
  readParameterStatus,
  readReadyForQuery,
  splitBackendFrames,
} from './backend-reader.js';
import { commandComplete, dataRow, errorResponse, noticeResponse, parameterStatus, readyForQuery } from './backend-serializer.js';

const frame = (code: string, body: string | Buffer): Buffer => {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeInt32BE(b.length + 4, 1);
  return Buffer.concat([head, b]);
};

// PostgreSQL's answer to `select 1; select nope from nope`, byte for byte.
const ROW_DESCRIPTION = Buffer.from(
  ['54', '00000021', '0001', '3f636f6c756d6e3f00', '00000000', '0000', '00000017', '0004', 'ffffffff', '0000'].join(''),
  'hex',
);
const DATA_ROW = Buffer.from('440000000b00010000000131', 'hex');
const SELECT_1 = frame('C', 'SELECT 1\0');
const ERROR = frame(
  'E',
  'SERROR\0VERROR\0C42P01\0Mrelation "nope" does not exist\0P18\0Fparse_relation.c\0L1449\0RparserOpenTable\0\0',
);
const READY_IDLE = frame('Z', 'I');
const RESPONSE = Buffer.concat([ROW_DESCRIPTION, DATA_ROW, SELECT_1, ERROR, READY_IDLE]);
const PIECES = [ROW_DESCRIPTION, DATA_ROW, SELECT_1, ERROR, READY_IDLE];

describe('backend frames', () => {
  test('a response splits into its frames, each relayable as it is', () => {
    const frames = splitBackendFrames(RESPONSE);
    assert.deepEqual(
      frames.map((f) => String.fromCharCode(f.code)),
      ['T', 'D', 'C', 'E', 'Z'],
    );
    assert.deepEqual(
      frames.map((f) => f.raw),
      PIECES,
    );
    assert.deepEqual(frames[1]!.body, DATA_ROW.subarray(5));
  });

  test('the incremental splitter, split at every byte position', () => {
    for (let i = 0; i <= RESPONSE.length; i++) {
      const s = new BackendFrameSplitter();
      const raws: Buffer[] = [];
      for (const part of [RESPONSE.subarray(0, i), RESPONSE.subarray(i)]) {
        s.push(part);
        for (let f = s.next(); f !== undefined; f = s.next()) raws.push(f.raw);
      }
      assert.deepEqual(raws, PIECES, `split at ${i}`);
      assert.equal(s.bufferedBytes, 0);
    }
  });

  test('reads ReadyForQuery, CommandComplete, ErrorResponse', () => {
    const [, , done, error, ready] = splitBackendFrames(RESPONSE);
    assert.equal(readCommandComplete(done!), 'SELECT 1');
    assert.equal(readReadyForQuery(ready!), 'I');
    assert.deepEqual(readErrorFields(error!), {
      severity: 'ERROR',
      code: '42P01',
      message: 'relation "nope" does not exist',
      position: '18',
      file: 'parse_relation.c',
      line: '1449',
      routine: 'parserOpenTable',
    });
  });

  test('reads what the serializer writes', () => {
    const frames = splitBackendFrames(
      Buffer.concat([
        parameterStatus('TimeZone', 'UTC'),
        readyForQuery('T'),
        readyForQuery('E'),
        commandComplete('INSERT 0 1'),
        noticeResponse({ severity: 'NOTICE', code: '00000', message: 'hi', detail: 'd', hint: 'h' }),
      ]),
    );
    assert.deepEqual(readParameterStatus(frames[0]!), { name: 'TimeZone', value: 'UTC' });
    assert.equal(readReadyForQuery(frames[1]!), 'T');
    assert.equal(readReadyForQuery(frames[2]!), 'E');
    assert.equal(readCommandComplete(frames[3]!), 'INSERT 0 1');
    assert.deepEqual(readErrorFields(frames[4]!), { severity: 'NOTICE', code: '00000', message: 'hi', detail: 'd', hint: 'h' });
  });

  test('severity falls back to S when V is absent; unknown field types are skipped', () => {
    const [f] = splitBackendFrames(frame('E', 'SFEHLER\0C22012\0Mdivision by zero\0Xfuture\0\0'));
    assert.deepEqual(readErrorFields(f!), { severity: 'FEHLER', code: '22012', message: 'division by zero' });
  });
});

test('a DataRow reads back as text columns, NULL as null', () => {
  const [f] = splitBackendFrames(dataRow(['wk_r_1', null, '', 'ünï']));
  assert.deepEqual(readDataRow(f!), ['wk_r_1', null, '', 'ünï']);
  const [short] = splitBackendFrames(frame('D', Buffer.from('0001000000056162', 'hex')));
  assert.throws(() => readDataRow(short!), { code: 'WK_REL_PROTOCOL_BACKEND_MALFORMED' });
});

describe('malformed backend bytes', () => {
  const code = 'WK_REL_PROTOCOL_BACKEND_MALFORMED';

  test('a length below 4, a response that ends inside a frame', () => {
    for (const len of ['00000000', '00000003', 'ffffffff']) {
      const s = new BackendFrameSplitter();
      s.push(Buffer.from(`5a${len}49`, 'hex'));
      assert.throws(() => s.next(), { code }, len);
    }
    assert.throws(() => splitBackendFrames(RESPONSE.subarray(0, RESPONSE.length - 1)), { code });
  });

  test('the wrong frame for a reader', () => {
    const [rd] = splitBackendFrames(ROW_DESCRIPTION);
    assert.throws(() => readReadyForQuery(rd!), { code });
    assert.throws(() => readCommandComplete(rd!), { code });
    assert.throws(() => readErrorFields(rd!), { code });
  });

  test('truncated or over-long bodies', () => {
    const read = (f: Buffer, fn: (x: ReturnType<typeof splitBackendFrames>[number]) => unknown): void => {
      assert.throws(() => fn(splitBackendFrames(f)[0]!), { code });
    };
    read(frame('Z', 'II'), readReadyForQuery);
    read(frame('Z', 'X'), readReadyForQuery);
    read(frame('Z', ''), readReadyForQuery);
    read(frame('C', 'SELECT 1'), readCommandComplete);
    read(frame('S', 'TimeZone\0'), readParameterStatus);
    read(frame('E', 'SERROR\0C42P01\0'), readErrorFields);
    read(frame('E', Buffer.from([0x4d, 0xff, 0, 0])), readErrorFields);
  });

  test('an error frame from the serializer survives a round trip with every field', () => {
    const [f] = splitBackendFrames(
      errorResponse({ severity: 'ERROR', code: '23505', message: 'dup', constraint: 'k', table: 't', schema: 's' }),
    );
    assert.deepEqual(readErrorFields(f!), {
      severity: 'ERROR',
      code: '23505',
      message: 'dup',
      constraint: 'k',
      table: 't',
      schema: 's',
    });
  });
});
