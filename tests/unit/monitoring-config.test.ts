/**
 * The agent config's monitoring keys: the metrics endpoint stays on loopback unless the
 * admin says otherwise, and every problem names its key.
 */
import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../src/config/agent-config.js';
import { isLoopback, splitHostPort } from '../../src/config/monitoring.js';

const base = { repository: '/mnt/backup', passwordFile: '/etc/coffre/pw', sources: [{ path: '/srv/identites' }] };
const problem = (raw: unknown) => {
  try {
    parseAgentConfig(raw, '/etc/coffre/agent.config.json', {});
  } catch (e) {
    return (e as Error).message;
  }
  return 'no problem';
};

describe('monitoring config', () => {
  it.each(['127.0.0.1:9479', '127.1.2.3:80', '[::1]:9479', 'localhost:9479'])('accepts the loopback address %s', (listen) => {
    expect(problem({ ...base, metrics: { listen } })).toBe('no problem');
  });

  it.each(['0.0.0.0:9479', '192.168.1.10:9479', '[::]:9479', 'monitoring.example.net:9479'])('refuses %s unless allowRemote', (listen) => {
    expect(problem({ ...base, metrics: { listen } })).toContain(`metrics.listen: ${listen} is not a loopback address, and the metrics endpoint has no authentication`);
    expect(problem({ ...base, metrics: { listen, allowRemote: true } })).toBe('no problem');
  });

  it.each([
    [{ metrics: {} }, 'metrics: set listen, textfile, or both'],
    [{ metrics: { textfile: 'coffre.prom' } }, 'metrics.textfile: expected an absolute path'],
    [{ metrics: { textfile: '/var/lib/node-exporter/coffre.txt' } }, 'metrics.textfile: node_exporter reads only files ending in .prom'],
    [{ metrics: { listen: '127.0.0.1:99999' } }, 'metrics.listen: expected HOST:PORT'],
    [{ alerts: { webhook: { url: 'ftp://x/y' } } }, 'alerts.webhook.url: expected an http:// or https:// URL'],
    [{ alerts: { webhook: {} } }, 'alerts.webhook.url: missing'],
  ])('%j: %s', (extra, message) => {
    expect(problem({ ...base, ...extra })).toContain(message);
  });

  it('splits host and port, IPv6 in brackets', () => {
    expect(splitHostPort('[::1]:9479')).toEqual({ host: '::1', port: 9479 });
    expect(splitHostPort('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(splitHostPort('9479')).toBeUndefined();
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
  });
});
