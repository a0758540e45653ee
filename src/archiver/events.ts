/**
 * What a backup tells its caller while it runs. The archiver never prints: the CLI, the
 * agent and the tests each decide what to do with these (text, JSON, logs, metrics).
 * File names are patient data in a hospital: consumers log them only at debug level.
 * @module
 */

export interface BackupProgress {
  readonly filesDone: number;
  readonly bytesRead: number;
  readonly bytesNew: number;
}

export interface BackupEvents {
  /** A file or directory could not be read; it is left out of the snapshot. */
  itemFailed?(path: string, reason: string): void;
  /** Something the admin should know that did not fail the item (changed while read, skipped socket…). */
  warning?(path: string, message: string): void;
  /** Emitted about once per file; cheap consumers only. */
  progress?(p: BackupProgress): void;
}
