// A fake GCE/GKE metadata server handing out one OAuth access token, so an engine child process
// gets Google Application Default Credentials the way it would on GKE (google-auth-library's
// Compute client, found through GCE_METADATA_HOST). Test-only.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class FakeGceMetadata {
  #server: Server | undefined;
  /** The access token served; change it to hand out a credential the KMS fake does not know. */
  token: string;
  /** Token requests served. */
  tokenRequests = 0;

  constructor(token: string) {
    this.token = token;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const head = { 'metadata-flavor': 'Google' };
      if (req.headers['metadata-flavor'] !== 'Google') {
        res.writeHead(403, head).end('Missing Metadata-Flavor header');
      } else if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
        this.tokenRequests++;
        res.writeHead(200, { ...head, 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: this.token, expires_in: 3599, token_type: 'Bearer' }));
      } else if (path === '/computeMetadata/v1/project/project-id') {
        res.writeHead(200, { ...head, 'content-type': 'application/text' }).end('p');
      } else if (path === '/computeMetadata/v1/universe/universe-domain') {
        res.writeHead(200, { ...head, 'content-type': 'application/text' }).end('googleapis.com');
      } else {
        res.writeHead(404, head).end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    return this;
  }

  /** `host:port`, the form GCE_METADATA_HOST takes. */
  get host(): string {
    return `127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  /** The environment that makes google-auth-library use this server for credentials. */
  get env(): Record<string, string> {
    return { GCE_METADATA_HOST: this.host, METADATA_SERVER_DETECTION: 'assume-present' };
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
