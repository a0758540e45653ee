/**
 * Gathers small files into batches for the worker threads: one task and one dedup question
 * per batch instead of per file. A batch leaves when it is full, or once the walk has queued
 * what it could in this turn of the event loop (setImmediate), so a directory's files tend
 * to travel together and a lone file never waits for company.
 * @module
 */
import type { SmallFileResult } from '../workers/codec.js';

const BATCH_FILES = 64;
const BATCH_BYTES = 2 * 1024 * 1024;

interface Waiting {
  readonly path: string;
  resolve(r: SmallFileResult): void;
  reject(e: unknown): void;
}

export class SmallFileBatcher {
  private waiting: Waiting[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly send: (paths: string[]) => Promise<SmallFileResult[]>) {}

  save(path: string, size: number): Promise<SmallFileResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ path, resolve, reject });
      this.bytes += size;
      if (this.waiting.length >= BATCH_FILES || this.bytes >= BATCH_BYTES) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    this.bytes = 0;
    this.send(batch.map((w) => w.path)).then(
      (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
      (e: unknown) => batch.forEach((w) => w.reject(e)),
    );
  }
}
