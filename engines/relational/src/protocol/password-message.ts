// The 'p' message means PasswordMessage, SASLInitialResponse or SASLResponse depending on the
// authentication exchange in progress; the server decodes its body with the matching function.

import { ProtocolMalformedMessage } from '../errors.js';
import { BufferReader } from './buffer-reader.js';
import type { PasswordMessage, SASLInitialResponse } from './messages.js';

/** A PasswordMessage's cleartext password (also how a JWT arrives). */
export function decodePassword(msg: PasswordMessage): string {
  const r = new BufferReader(msg.data, 0, msg.data.length, 'password');
  const password = r.cstring();
  r.done();
  return password;
}

/** A SASLInitialResponse: the chosen mechanism and the client-first-message (a SASLResponse is just `msg.data`). */
export function decodeSASLInitialResponse(msg: PasswordMessage): SASLInitialResponse {
  const r = new BufferReader(msg.data, 0, msg.data.length, 'SASLInitialResponse');
  const mechanism = r.cstring();
  const len = r.int32();
  if (len < -1) throw new ProtocolMalformedMessage(`invalid SASL data length ${len}`);
  const data = len === -1 ? null : r.bytes(len);
  r.done();
  return { mechanism, data };
}
