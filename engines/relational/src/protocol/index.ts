// PostgreSQL protocol 3 codec: frontend parser, backend serializer, backend frame reader.
export type {
  BackendErrorFields,
  BackendFrame,
} from './backend-reader.js';
export {
  BackendFrameSplitter,
  readCommandComplete,
  readDataRow,
  readErrorFields,
  readParameterStatus,
  readReadyForQuery,
  splitBackendFrames,
} from './backend-reader.js';
export { BackendCode } from './backend-codes.js';
export type { ErrorFields, FieldDescription, Severity, TransactionStatus } from './backend-serializer.js';
export {
  authenticationCleartextPassword,
  authenticationOk,
  authenticationSASL,
  authenticationSASLContinue,
  authenticationSASLFinal,
  backendKeyData,
  bindComplete,
  closeComplete,
  commandComplete,
  dataRow,
  emptyQueryResponse,
  errorResponse,
  gssEncResponse,
  negotiateProtocolVersion,
  noData,
  noticeResponse,
  parameterDescription,
  parameterStatus,
  parseComplete,
  readyForQuery,
  rowDescription,
  sslResponse,
} from './backend-serializer.js';
export type { FrontendParserOptions, FrontendParserPhase } from './frontend-parser.js';
export { DEFAULT_MAX_MESSAGE_BYTES, FrontendParser } from './frontend-parser.js';
export { decodePassword, decodeSASLInitialResponse } from './password-message.js';
export type * from './messages.js';
