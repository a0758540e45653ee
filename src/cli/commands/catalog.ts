import type { Command } from 'commander';
import { rebuildCatalog } from '../../app/catalog-sync.js';
import { withRepository } from '../../app/repo.js';
import { WriterLock } from '../../catalog/lock.js';
import { UsageError } from '../../domain/errors.js';
import { formatBytes, formatDuration } from '../../ui/format.js';
import { repoOptions } from '../options.js';
import { printJson, println, warn } from '../output.js';

const noCatalog = () =>
  new UsageError('no usable catalog (see the message above)', { hint: 'give a writable --state-dir (or COFFRE_STATE_DIR)' });

export function registerCatalog(program: Command): void {
  const catalog = program.command('catalog').description('the local catalog (a cache of the repository, in --state-dir)');

  catalog
    .command('rebuild')
    .description('rebuild the catalog from the repository alone (index, snapshots, trees, packs of interrupted backups)')
    .option('--no-trees', 'do not cache every tree now (find, diff and ls then read them on first use)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { trees: boolean; json?: boolean }, cmd: Command) => {
      const r = await withRepository(repoOptions(cmd, { catalog: 'write', command: 'catalog rebuild', sync: false }), async (repo, local) => {
        if (!local) throw noCatalog();
        const result = await rebuildCatalog(repo, local.catalog, { fromScratch: true, trees: opts.trees, unindexedPacks: true });
        return { ...result, catalog: local.catalog.stats() };
      });
      if (opts.json) return printJson(r);
      println(`rebuilt ${r.catalog.file} in ${formatDuration(r.durationMs)}`);
      println(`${r.indexObjects} index object(s), ${r.blobs} blob(s), ${r.snapshots} snapshot(s), ${r.trees} tree(s) cached`);
      if (r.unindexedPacks) println(`${r.unindexedPacks} pack(s) of interrupted backups found: the next backup indexes and reuses them`);
      for (const u of r.unreadablePacks) warn(`pack ${u.packId.slice(0, 8)} could not be read: ${u.reason} (run "coffre check")`);
    });

  catalog
    .command('info')
    .description('what the catalog holds, who holds its lock, the last runs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const info = await withRepository(repoOptions(cmd, { sync: false }), async (_repo, local) => {
        if (!local) throw noCatalog();
        const c = local.catalog;
        return { ...c.stats(), lock: WriterLock.holder(c.db) ?? null, runs: c.runs.recent(10) };
      });
      if (opts.json) return printJson(info);
      println(`catalog ${info.file} (${formatBytes(info.bytes)}, schema ${info.schemaVersion}, rebuilt ${info.rebuiltAt ?? 'never'})`);
      println(`${info.snapshots} snapshot(s), ${info.trees} tree(s), ${info.blobs} blob(s) in ${info.packs} pack(s) from ${info.indexObjects} index object(s)`);
      if (info.unindexedPacks) println(`${info.unindexedPacks} pack(s) stored but not indexed yet (the next backup indexes them)`);
      println(`${info.files} file(s) in the file-change cache`);
      println(info.lock ? `locked by "${info.lock.command}" (pid ${info.lock.pid} on ${info.lock.host})` : 'not locked');
      for (const r of info.runs) {
        const when = new Date(r.started).toISOString().slice(0, 19).replace('T', ' ');
        const what = r.kind === 'backup' && r.snapshotId ? ` snapshot ${r.snapshotId.slice(0, 8)}` : '';
        println(`  ${when} UTC  ${r.kind.padEnd(7)} ${r.result.padEnd(11)}${what}${r.error ? `  ${r.error}` : ''}`);
      }
    });

  catalog
    .command('unlock')
    .description("remove the catalog's writer lock (only if its holder is gone: locks of dead processes on this host are cleared automatically)")
    .action(async (_opts: unknown, cmd: Command) => {
      const h = await withRepository(repoOptions(cmd, { sync: false }), async (_repo, local) => {
        if (!local) throw noCatalog();
        return WriterLock.breakLock(local.catalog.db);
      });
      println(h ? `removed the lock of "${h.command}" (pid ${h.pid} on ${h.host})` : 'the catalog was not locked');
    });
}
