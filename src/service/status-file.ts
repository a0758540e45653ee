/**
 * The agent's live state as a file in the state directory (`agent-status.json`), rewritten
 * whole (temporary file, rename) at most once a second while it changes, so that
 * `coffre status` and monitoring can read next run times, retries and what is failing
 * without talking to the process. The run history in the catalog is the durable record.
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentStatusView } from './state.js';

export const STATUS_FILE = 'agent-status.json';

export class StatusFile {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;

  constructor(
    readonly file: string,
    private readonly view: () => AgentStatusView,
    private readonly minIntervalMs = 1000,
  ) {}

  static in(stateDir: string, view: () => AgentStatusView): StatusFile {
    return new StatusFile(path.join(stateDir, STATUS_FILE), view);
  }

  changed(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => this.write(), wait);
    this.timer.unref();
  }

  /** Writes now (at shutdown). */
  write(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.last = Date.now();
    const tmp = `${this.file}.tmp`;
    try {
      fs.writeFileSync(tmp, `${JSON.stringify(this.view(), null, 2)}\n`, { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch {
      // the state directory is unusable: the agent says so elsewhere; the file is a convenience
    }
  }
}
