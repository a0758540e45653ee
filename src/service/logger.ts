/**
 * The agent's log: one JSON object per line on stdout (journald collects them), through
 * pino. What goes in: job names, counts, durations, storage object names, error codes and
 * one-line messages. What never goes in: secrets (the agent holds none in loggable form:
 * config values are file names, not their contents), file contents, and file names except
 * at debug level (file names can be patient names).
 * @module
 */
import { pino, type Logger } from 'pino';
import { CoffreError, describeError, StorageError } from '../domain/errors.js';

export type { Logger } from 'pino';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Synchronous writes to stdout by default: the agent logs little, and no line is lost at exit. */
export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** An error as log fields: its stable code, storage kind, one-line message and hint; never a stack. */
export function errorFields(e: unknown): { code: string; kind?: string; message: string; hint?: string } {
  const code = e instanceof CoffreError ? e.code : ((e as NodeJS.ErrnoException | undefined)?.code ?? 'UNEXPECTED');
  return {
    code,
    ...(e instanceof StorageError ? { kind: e.kind } : {}),
    message: describeError(e),
    ...(e instanceof CoffreError && e.hint ? { hint: e.hint } : {}),
  };
}

/** The process's memory in MiB (resident, JS heap, native buffers), to watch a long-running agent stay flat. */
export function memoryFields(): { rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number } {
  const m = process.memoryUsage();
  const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external) };
}
