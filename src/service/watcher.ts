/**
 * Watches every source with chokidar and feeds the dirty set. Only what the backup would
 * take is watched (the same exclude/include filter). Watchers miss events: inotify has a
 * per-user watch limit and a bounded queue, network filesystems send no events at all. So
 * the watcher only speeds things up; the scheduled rescan, and the backup forced when the
 * last one is older than the recovery point, are what guarantee nothing is missed. When the
 * watcher fails it says so, once, with what to do, and the agent falls back on rescans.
 * @module
 */
import { watch, type FSWatcher } from 'chokidar';
import type { SourceFilter } from '../config/sources.js';
import type { DirtySet } from './dirty-set.js';
import type { Logger } from './logger.js';
import type { AgentState } from './state.js';

export interface WatcherOptions {
  readonly usePolling: boolean;
}

const HINTS: Record<string, string> = {
  ENOSPC: 'the inotify watch limit is reached: raise fs.inotify.max_user_watches (sysctl)',
  EMFILE: 'too many open files: raise the open file limit (LimitNOFILE) or fs.inotify.max_user_instances',
  ENFILE: 'the system-wide open file limit is reached',
};

export class SourceWatcher {
  private watcher: FSWatcher | undefined;
  private failed = false;

  constructor(
    private readonly filter: SourceFilter,
    private readonly dirty: DirtySet,
    private readonly state: AgentState,
    private readonly log: Logger,
    private readonly opts: WatcherOptions,
  ) {}

  /** Starts watching; setting up the watches walks the sources in the background. */
  start(): void {
    const roots = this.filter.selection.paths;
    this.state.setWatcher('starting');
    const w = watch([...roots], {
      ignoreInitial: true,
      persistent: true,
      followSymlinks: false,
      usePolling: this.opts.usePolling,
      ignorePermissionErrors: true,
      ignored: (p, stats) => (stats ? !this.filter.takes(p, stats.isDirectory()) : this.filter.isExcluded(p)),
    });
    const changed = (p: string) => {
      this.log.trace({ path: p }, 'changed');
      this.dirty.note(p);
    };
    for (const ev of ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const) w.on(ev, changed);
    w.on('ready', () => {
      if (this.failed) return;
      this.state.setWatcher('watching');
      this.log.info({ sources: roots.length }, 'watching the sources');
    });
    w.on('error', (e: unknown) => this.onError(e));
    this.watcher = w;
  }

  async close(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    await w?.close();
  }

  /** A watcher error means events may be lost from now on: say so once, mark the watcher degraded. */
  private onError(e: unknown): void {
    const code = (e as NodeJS.ErrnoException).code ?? 'ERROR';
    // The message names the file concerned: debug level only.
    this.log.debug({ code, message: e instanceof Error ? e.message : String(e) }, 'watcher error');
    const why = HINTS[code] ?? `error ${code}`;
    if (!this.failed) {
      this.log.error({ code }, `watcher failed: ${why}; changes may be missed, so a rescan now runs before every backup`);
    }
    this.failed = true;
    this.state.setWatcher('degraded', `${code}: ${why}`);
  }
}
