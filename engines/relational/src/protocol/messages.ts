// Frontend (client → server) messages as the parser returns them. Byte fields (`params`, `data`,
// `args`) are views into received bytes: valid while held, never overwritten by the parser.

/** 0 = text, 1 = binary. */
export type FormatCode = 0 | 1;

/** Which kind of object a Describe or Close names: 'S' prepared statement, 'P' portal. */
export type TargetKind = 'S' | 'P';

export interface SSLRequestMessage {
  readonly type: 'sslRequest';
}

export interface GSSEncRequestMessage {
  readonly type: 'gssEncRequest';
}

export interface CancelRequestMessage {
  readonly type: 'cancelRequest';
  readonly processId: number;
  readonly secretKey: number;
}

/** A StartupMessage for protocol 3.x; `minorVersion > 0` asks the server to negotiate down. */
export interface StartupMessage {
  readonly type: 'startup';
  readonly majorVersion: 3;
  readonly minorVersion: number;
  /** Always present and non-empty (the parser refuses a startup packet without it). */
  readonly user: string;
  readonly database: string | undefined;
  /** Every parameter except `_pq_.*` protocol options, including `user` and `database`. */
  readonly parameters: ReadonlyMap<string, string>;
  /** `_pq_.*` protocol extension options; a 3.0 server lists their names in NegotiateProtocolVersion. */
  readonly protocolOptions: ReadonlyMap<string, string>;
}

/** A startup packet whose major version is not 3; the body is not read. Refuse it (0A000) and close. */
export interface UnsupportedProtocolMessage {
  readonly type: 'unsupportedProtocol';
  readonly majorVersion: number;
  readonly minorVersion: number;
}

export interface QueryMessage {
  readonly type: 'query';
  readonly sql: string;
}

export interface ParseMessage {
  readonly type: 'parse';
  readonly name: string;
  readonly sql: string;
  /** Parameter type OIDs (0 = unspecified). */
  readonly paramTypes: readonly number[];
}

export interface BindMessage {
  readonly type: 'bind';
  readonly portal: string;
  readonly statement: string;
  /** Empty (all text), one (applies to all) or one per parameter. */
  readonly paramFormats: readonly FormatCode[];
  /** `null` is SQL NULL (length -1 on the wire). */
  readonly params: readonly (Buffer | null)[];
  /** Empty (all text), one (applies to all) or one per result column. */
  readonly resultFormats: readonly FormatCode[];
}

export interface DescribeMessage {
  readonly type: 'describe';
  readonly target: TargetKind;
  readonly name: string;
}

export interface ExecuteMessage {
  readonly type: 'execute';
  readonly portal: string;
  /** 0 (or negative) means no limit. */
  readonly maxRows: number;
}

export interface CloseMessage {
  readonly type: 'close';
  readonly target: TargetKind;
  readonly name: string;
}

export interface SyncMessage {
  readonly type: 'sync';
}

export interface FlushMessage {
  readonly type: 'flush';
}

export interface TerminateMessage {
  readonly type: 'terminate';
}

/**
 * 'p': PasswordMessage, SASLInitialResponse or SASLResponse; which one depends on the
 * authentication exchange, so the raw body is kept (decode with `decodePassword`,
 * `decodeSASLInitialResponse`, or use `data` as the SASLResponse).
 */
export interface PasswordMessage {
  readonly type: 'password';
  readonly data: Buffer;
}

export interface CopyDataMessage {
  readonly type: 'copyData';
  readonly data: Buffer;
}

export interface CopyDoneMessage {
  readonly type: 'copyDone';
}

export interface CopyFailMessage {
  readonly type: 'copyFail';
  readonly message: string;
}

export interface FunctionCallMessage {
  readonly type: 'functionCall';
  readonly functionOid: number;
  readonly argFormats: readonly FormatCode[];
  readonly args: readonly (Buffer | null)[];
  readonly resultFormat: FormatCode;
}

export type StartupPhaseMessage =
  | SSLRequestMessage
  | GSSEncRequestMessage
  | CancelRequestMessage
  | StartupMessage
  | UnsupportedProtocolMessage;

export type TypedFrontendMessage =
  | QueryMessage
  | ParseMessage
  | BindMessage
  | DescribeMessage
  | ExecuteMessage
  | CloseMessage
  | SyncMessage
  | FlushMessage
  | TerminateMessage
  | PasswordMessage
  | CopyDataMessage
  | CopyDoneMessage
  | CopyFailMessage
  | FunctionCallMessage;

export type FrontendMessage = StartupPhaseMessage | TypedFrontendMessage;

/** The decoded body of a SASLInitialResponse. */
export interface SASLInitialResponse {
  readonly mechanism: string;
  /** The client-first-message; `null` when the client sent none (length -1). */
  readonly data: Buffer | null;
}
