// Pulls frontend messages off a socket one at a time, with backpressure: the socket is paused
// while the consumer is busy and enough bytes wait, and resumed when the consumer needs more.
import type { Socket } from 'node:net';
import type { FrontendMessage, FrontendParser } from '../protocol/index.js';

/** Bytes that may wait in the parser while the session is busy before the socket is paused. */
const HIGH_WATER_BYTES = 256 * 1024;

export class MessageReader {
  readonly parser: FrontendParser;
  #stream: Socket | undefined;
  #wake: (() => void) | undefined;
  #eof = false;
  readonly #onData = (chunk: Buffer): void => {
    this.parser.push(chunk);
    if (this.#wake !== undefined) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake();
    } else if (this.parser.bufferedBytes > HIGH_WATER_BYTES) {
      this.#stream?.pause();
    }
  };
  readonly #onEnd = (): void => {
    this.#eof = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  };

  constructor(parser: FrontendParser) {
    this.parser = parser;
  }

  /** Starts reading `stream` (the plain socket, or the TLS socket after an upgrade). */
  attach(stream: Socket): void {
    this.#stream = stream;
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('close', this.#onEnd);
    stream.resume();
  }

  /** Stops reading without losing bytes (before a TLS upgrade takes the socket over). */
  detach(): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    stream.pause();
    stream.off('data', this.#onData);
    stream.off('end', this.#onEnd);
    stream.off('close', this.#onEnd);
    this.#stream = undefined;
  }

  /** The next message, or null at end of input. Throws the parser's coded error on bad input. */
  async next(): Promise<FrontendMessage | null> {
    for (;;) {
      const msg = this.parser.next();
      if (msg !== undefined) return msg;
      if (this.#eof || this.parser.phase === 'closed') return null;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#stream?.resume();
      });
    }
  }

  /** Wakes a pending `next()` with end of input (connection being torn down). */
  end(): void {
    this.#onEnd();
  }
}
