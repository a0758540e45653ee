/**
 * A webhook receiver on loopback for the agent's alerts; it can refuse the first requests
 * with 503 to exercise retries. Closed after the test file.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect } from 'vitest';

export interface Alert {
  schema: string;
  state: string;
  previous: string;
  repository: string;
  reasons: { check: string; state: string; message: string }[];
}

export class Receiver {
  readonly delivered: Alert[] = [];
  attempts = 0;
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(opts: { failFirst?: number } = {}): Promise<Receiver> {
    let r!: Receiver;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        r.attempts++;
        if (r.attempts <= (opts.failFirst ?? 0)) return void res.writeHead(503).end();
        expect(req.method).toBe('POST');
        expect(req.headers['content-type']).toBe('application/json');
        r.delivered.push(JSON.parse(body) as Alert);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    r = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    afterAll(() => r.close());
    return r;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
