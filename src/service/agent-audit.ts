/**
 * The agent's entries in the audit trail: its backups and its retention runs (checks and
 * drills are recorded by the library, src/app/check.ts and drill.ts), and its config —
 * the one it started with and every reload — named by the SHA-256 of the file. A config
 * change is recorded at the first job after it, when the repository is open.
 * @module
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { recordSafely } from '../app/audit.js';
import type { AuditAction, AuditResult } from '../audit/entry.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { Repository } from '../repository/repository.js';
import type { JobResult } from './jobs.js';
import type { JobKind, JobOutcome } from './state.js';

const ACTIONS: Partial<Record<JobKind, AuditAction>> = { backup: 'backup', retention: 'forget' };

export class AgentAudit {
  private pendingConfig: string | undefined;

  constructor(
    private readonly stateDir: string,
    private readonly notice: (m: string) => void,
  ) {}

  /** The config the agent now runs with (start, reload): recorded with the next job. */
  configLoaded(config: AgentConfig, why: 'started' | 'reloaded'): void {
    let digest = 'unreadable';
    try {
      digest = createHash('sha256').update(fs.readFileSync(config.file)).digest('hex').slice(0, 16);
    } catch {
      // recorded as unreadable: the entry still says a config was loaded
    }
    this.pendingConfig = `agent ${why} with config sha256:${digest}`;
  }

  async jobDone(repo: Repository | undefined, kind: JobKind, outcome: JobOutcome, result: JobResult | undefined, paths: readonly string[], error?: unknown): Promise<void> {
    if (!repo) return;
    const ctx = { stateDir: this.stateDir, notice: this.notice };
    if (this.pendingConfig) {
      const detail = this.pendingConfig;
      this.pendingConfig = undefined;
      await recordSafely(repo, ctx, 'config', { detail }, 'ok');
    }
    const action = ACTIONS[kind];
    if (!action || outcome === 'skipped') return;
    const d = (result?.detail ?? {}) as Record<string, unknown>;
    if (kind === 'retention' && d.applied !== true && outcome !== 'failed') return; // only logged what it would forget
    const counts: Record<string, number> = {};
    for (const k of ['filesNew', 'filesChanged', 'filesUnmodified', 'bytesAdded', 'unreadable', 'keep', 'forget']) if (typeof d[k] === 'number') counts[k] = d[k];
    const res: AuditResult = outcome === 'ok' ? 'ok' : outcome === 'incomplete' ? 'incomplete' : 'failed';
    await recordSafely(
      repo,
      ctx,
      action,
      {
        ...(result?.snapshotId ? { snapshot: result.snapshotId } : {}),
        ...(kind === 'backup' ? { paths } : {}),
        ...(Object.keys(counts).length ? { counts } : {}),
        detail: `agent, ${outcome}${d.suspect ? ', snapshot flagged suspect (mass change)' : ''}`,
      },
      res,
      error,
    );
  }
}
