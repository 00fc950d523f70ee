// A small HTTP server base for the fake key services: port 0 on 127.0.0.1, stop/restart on the
// same port (to simulate an outage), and injected faults (status codes, hangs). Test-only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** A fault served instead of the real answer: an HTTP status with a body, or no answer at all. */
export type Fault = { readonly kind: 'status'; readonly reply: FakeReply } | { readonly kind: 'hang' };

export abstract class FakeHttpServer {
  #server: Server | undefined;
  #port = 0;
  readonly #sockets = new Set<Socket>();
  readonly #faults: Fault[] = [];
  /** Requests answered (or faulted) since start, for tests that count calls. */
  requests = 0;

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** Listens on `port` (0 first time: any free port; later calls reuse the first port). */
  async start(port: number = this.#port): Promise<this> {
    if (this.#server !== undefined) return this;
    const server = createServer((req, res) => void this.#dispatch(req, res));
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Stops listening and drops every open connection (an outage: clients see ECONNREFUSED). */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Serves `fault` for the next `times` requests, before any real handling. */
  inject(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.#faults.push(fault);
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  protected abstract handle(req: IncomingMessage, body: Buffer): Promise<FakeReply> | FakeReply;

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.requests++;
    const fault = this.#faults.shift();
    if (fault?.kind === 'hang') return;
    let reply: FakeReply;
    try {
      reply = fault?.kind === 'status' ? fault.reply : await this.handle(req, Buffer.concat(chunks));
    } catch {
      reply = { status: 500, body: { message: 'fake server error' } };
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(text);
  }
}
