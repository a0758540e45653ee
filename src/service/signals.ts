/**
 * The agent as a process: load the config, start, and live until a signal stops it.
 * - SIGTERM, SIGINT: stop (see Agent.stop), then resolve; the process exits 0.
 * - SIGHUP: reload the config file (an invalid one is refused and logged).
 * - SIGUSR1: back up now.
 * An error nothing caught is a bug: it is logged as one JSON line and the process exits 1,
 * for the service manager to restart it (the next start resumes).
 * @module
 */
import { loadAgentConfig } from '../config/agent-config.js';
import { Agent } from './agent.js';
import { createLogger, errorFields } from './logger.js';

export async function runAgent(configFile: string, opts: { debug?: boolean } = {}): Promise<void> {
  const config = await loadAgentConfig(configFile);
  const log = createLogger(opts.debug ? 'debug' : config.logLevel);
  const agent = await Agent.start(config, log);
  const fatal = (e: unknown) => {
    log.fatal({ error: errorFields(e), stack: e instanceof Error ? e.stack : undefined }, 'unexpected error: the agent exits');
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  await new Promise<void>((resolve) => {
    const handlers: Partial<Record<NodeJS.Signals, () => void>> = {
      SIGTERM: () => stop('SIGTERM'),
      SIGINT: () => stop('SIGINT'),
      SIGHUP: () => void agent.reload(),
      SIGUSR1: () => agent.requestBackup('signal'),
    };
    const stop = (signal: NodeJS.Signals) =>
      void agent.stop(signal).then(() => {
        for (const [s, h] of Object.entries(handlers)) process.off(s, h);
        resolve();
      });
    for (const [s, h] of Object.entries(handlers)) process.on(s, h);
  });
}
