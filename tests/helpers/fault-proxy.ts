/**
 * A loopback TCP proxy in front of the S3 test server that breaks connections on purpose, to
 * prove what the storage stack does when the network misbehaves. A plan picks one fault per
 * new connection (by its index, 0-based), so a test can say "the first two connections get a
 * 503, the rest pass" or "every connection dies after a random few hundred KiB".
 */
import * as net from 'node:net';

export type Fault =
  | { readonly kind: 'pass' }
  /** TCP RST once this many bytes (both directions together) have passed. */
  | { readonly kind: 'reset'; readonly afterBytes: number }
  /** Stop forwarding after this many bytes (both directions) and keep the connection open. */
  | { readonly kind: 'stall'; readonly afterBytes: number }
  /** Forward this many response bytes, then close cleanly (FIN): a short response. */
  | { readonly kind: 'truncate'; readonly afterBytes: number }
  /** The request reaches the server in full; the connection is reset when the answer starts. */
  | { readonly kind: 'drop-response' }
  /** One bit of the request stream, this many bytes in, arrives flipped (a bad NIC, a broken middlebox). */
  | { readonly kind: 'corrupt-request'; readonly atByte: number }
  /** Answer without contacting the server, e.g. 503 SlowDown, then close. */
  | { readonly kind: 'respond'; readonly status: number; readonly code: string };

export type FaultPlan = (connection: number) => Fault;

export class FaultProxy {
  /** Connections accepted, and faults actually triggered (a budget never reached does not count). */
  readonly stats = { connections: 0, faults: 0 };
  plan: FaultPlan;
  private readonly sockets = new Set<net.Socket>();
  /** While set, no byte is forwarded (`hold`). */
  private holding = false;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
    plan: FaultPlan,
  ) {
    this.plan = plan;
    server.on('connection', (client) => this.handle(client));
  }

  /** @param endpoint the real server, e.g. http://127.0.0.1:17480 */
  static async start(endpoint: string, plan: FaultPlan = () => ({ kind: 'pass' })): Promise<FaultProxy> {
    const url = new URL(endpoint);
    const server = net.createServer();
    const proxy = new FaultProxy(server, { host: url.hostname, port: Number(url.port || 80) }, plan);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    const addr = this.server.address() as net.AddressInfo;
    return `http://127.0.0.1:${addr.port}`;
  }

  /**
   * Cuts every open connection, so that the client's next request opens one and meets the
   * current plan. It also ends a `hold`: new connections move again.
   */
  dropConnections(): void {
    this.holding = false;
    for (const s of this.sockets) s.destroy();
  }

  /**
   * Freezes the network: from now on no byte moves on any connection, open or new, until
   * `dropConnections`. A test can then be sure the client makes no progress while it looks,
   * without racing it.
   */
  hold(): void {
    this.holding = true;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // resets are the point here
  }

  private handle(client: net.Socket): void {
    this.track(client);
    const fault = this.plan(this.stats.connections++);
    if (fault.kind === 'respond') return this.respond(client, fault.status, fault.code);

    const upstream = net.connect(this.target.port, this.target.host);
    this.track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    let counted = 0;
    let tripped = false;

    const trip = () => {
      tripped = true;
      this.stats.faults++;
      if (fault.kind === 'reset' || fault.kind === 'drop-response') {
        client.resetAndDestroy();
        upstream.destroy();
      } else if (fault.kind === 'truncate') {
        client.end();
        upstream.destroy();
      } // 'stall': both stay open, nothing more moves
    };

    const forward = (from: net.Socket, to: net.Socket, direction: 'up' | 'down') => {
      from.on('data', (chunk: Buffer) => this.pass(() => onData(chunk, to, direction)));
      from.on('end', () =>
        this.pass(() => {
          if (!tripped) to.end();
        }),
      );
    };
    const onData = (chunk: Buffer, to: net.Socket, direction: 'up' | 'down') => {
      if (tripped) return;
      if (fault.kind === 'drop-response' && direction === 'down') return trip();
      if (fault.kind === 'corrupt-request' && direction === 'up') {
        const at = fault.atByte - counted;
        counted += chunk.length;
        if (at >= 0 && at < chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[at]! ^= 0x01;
          this.stats.faults++;
        }
        to.write(chunk);
        return;
      }
      const budgeted = fault.kind === 'reset' || fault.kind === 'stall' || (fault.kind === 'truncate' && direction === 'down');
      if (!budgeted) {
        to.write(chunk);
        return;
      }
      const room = fault.afterBytes - counted;
      const part = chunk.length < room ? chunk : chunk.subarray(0, Math.max(0, room));
      counted += part.length;
      if (part.length > 0) to.write(part);
      if (counted >= fault.afterBytes) trip();
    };
    forward(client, upstream, 'up');
    forward(upstream, client, 'down');
  }

  /** Runs `send`, unless the network is held (what arrives meanwhile is lost with its connection). */
  private pass(send: () => void): void {
    if (!this.holding) send();
  }

  /** Reads one whole request (headers + Content-Length body), then answers with an S3 error. */
  private respond(client: net.Socket, status: number, code: string): void {
    let buffered = Buffer.alloc(0);
    let bodyLeft: number | undefined;
    client.on('data', (chunk: Buffer) => {
      if (bodyLeft === undefined) {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(buffered.subarray(0, end).toString('latin1'));
        bodyLeft = Number(length?.[1] ?? 0) - (buffered.length - end - 4);
      } else {
        bodyLeft -= chunk.length;
      }
      if (bodyLeft > 0) return;
      this.stats.faults++;
      const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by fault proxy</Message></Error>`;
      client.end(
        `HTTP/1.1 ${status} Injected\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\n` +
          `Connection: close\r\n\r\n${xml}`,
      );
      bodyLeft = Infinity; // ignore anything after
    });
  }
}

/** Small seeded PRNG (mulberry32) so a fault schedule can be replayed. */
export { seededRandom } from '../../src/drill/sample.js';
