/**
 * `restore --tar FILE|-` and `dump`: where archive and file bytes go. Standard output is
 * never ended (other output may follow on stderr); a file is written under a hidden
 * temporary name and renamed into place once complete, and an existing file is kept
 * unless --overwrite. With output on stdout, the summary goes to stderr.
 * @module
 */
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { runRestoreTar } from '../../app/restore.js';
import type { AuditSpec } from '../../app/audit.js';
import { withRepository } from '../../app/repo.js';
import { IncompleteError, UsageError } from '../../domain/errors.js';
import { formatBytes, formatDuration, formatRate } from '../../ui/format.js';
import { repoOptions } from '../options.js';
import { printJson, warn } from '../output.js';

/** Runs `write` against stdout ("-") or a temporary file renamed to `file` on success. */
export async function toOutput<T>(file: string, overwrite: boolean | undefined, write: (out: Writable, end: boolean) => Promise<T>): Promise<T> {
  if (file === '-') return write(process.stdout, false);
  const final = path.resolve(file);
  if (!overwrite && (await fs.lstat(final).catch(() => undefined))) throw new UsageError(`${final} exists (use --overwrite to replace it)`);
  const tmp = path.join(path.dirname(final), `.${path.basename(final)}.coffre-part`);
  // Opened with O_NOFOLLOW: a symlink planted at the temporary name must not redirect the archive.
  const fd = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o600);
  const out = fd.createWriteStream({ highWaterMark: 1024 * 1024 });
  try {
    const r = await write(out, true);
    await fs.rename(tmp, final);
    return r;
  } catch (e) {
    out.destroy();
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export async function restoreTar(cmd: Command, ref: string, opts: { file: string; include?: string[]; overwrite?: boolean; json?: boolean }): Promise<void> {
  const audit: AuditSpec<Awaited<ReturnType<typeof runRestoreTar>>> = {
    action: 'restore',
    what: { snapshot: ref, ...(opts.include ? { paths: opts.include } : {}), detail: 'as a tar archive' },
    after: (r) => ({ snapshot: r.snapshotId, counts: { files: r.files, bytes: r.bytes, failures: r.failures.length }, result: r.failures.length ? 'incomplete' : 'ok' }),
  };
  const r = await withRepository({ ...repoOptions(cmd), audit }, (repo) =>
    toOutput(opts.file, opts.overwrite, (out, end) => runRestoreTar(repo, { snapshot: ref, include: opts.include, out, end })),
  );
  // With the archive on stdout, the summary goes to stderr.
  const say = opts.file === '-' ? (l: string) => process.stderr.write(`${l}\n`) : (l: string) => process.stdout.write(`${l}\n`);
  if (opts.json && opts.file !== '-') printJson(r);
  else if (opts.json) say(JSON.stringify(r));
  else {
    say(`wrote snapshot ${r.snapshotId.slice(0, 8)} as tar to ${opts.file === '-' ? 'standard output' : opts.file}: ${r.files} file(s), ${r.dirs} dir(s), ${r.symlinks} link(s)`);
    say(`${formatBytes(r.bytes)} of content (${formatBytes(r.archiveBytes)} archive) in ${formatDuration(r.durationMs)} (${formatRate(r.bytes, r.durationMs)})`);
  }
  if (r.failures.length) {
    for (const f of r.failures) warn(`left out: ${f.path}: ${f.reason}`);
    throw new IncompleteError(`${r.failures.length} file(s) left out of the archive`, r.failures.map((f) => f.path));
  }
}
