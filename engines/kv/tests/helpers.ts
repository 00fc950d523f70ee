// Shared test client: undici against a running engine.
import { type Agent, request } from 'undici';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  buf: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: test JSON
  json: any;
}

export interface CallInit {
  headers?: Record<string, string>;
  body?: string | Buffer;
  dispatcher?: Agent;
}

export async function call(base: string, method: string, path: string, init: CallInit = {}): Promise<Reply> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
    ...(init.dispatcher === undefined ? {} : { dispatcher: init.dispatcher }),
  });
  const buf = Buffer.from(await res.body.arrayBuffer());
  const type = String(res.headers['content-type'] ?? '');
  return {
    status: res.statusCode,
    headers: res.headers as Reply['headers'],
    buf,
    json: type.startsWith('application/json') && buf.length > 0 ? JSON.parse(buf.toString()) : undefined,
  };
}

/** A client bound to one engine and one Authorization header. */
export function client(base: string, authorization?: string, dispatcher?: Agent) {
  return (method: string, path: string, init: CallInit = {}): Promise<Reply> =>
    call(base, method, path, {
      ...init,
      headers: { ...(authorization === undefined ? {} : { authorization }), ...init.headers },
      ...(dispatcher === undefined ? {} : { dispatcher }),
    });
}

export function errorCode(r: Reply): string | undefined {
  return r.json?.error?.code;
}
