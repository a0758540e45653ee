import type { Command } from 'commander';
import { auditTrail } from '../../app/audit.js';
import { withRepository } from '../../app/repo.js';
import type { AuditEntry } from '../../audit/entry.js';
import { VerificationFailedError } from '../../domain/errors.js';
import { repoOptions } from '../options.js';
import { printJson, println, warn } from '../output.js';

/**
 * `coffre audit [--repository]`: the audit trail (this machine's log, or every machine's
 * copy in the repository); `coffre audit verify`: any entry removed, altered or reordered,
 * in either copy, is named and the exit code is 4.
 */
export function registerAudit(program: Command): void {
  const cmd = program
    .command('audit')
    .description('the audit trail: who backed up, restored, checked, forgot, changed keys or config, when, and how it ended')
    .option('--repository', 'list the copy in the repository (every machine), not this machine\'s log')
    .option('--json', 'print JSON lines')
    .action(async (opts: { repository?: boolean; json?: boolean }, c: Command) => {
      const o = repoOptions(c);
      const entries = await withRepository(o, async (repo) => {
        const trail = auditTrail(repo, o);
        return opts.repository ? trail.repositoryEntries() : trail.localEntries();
      });
      for (const e of entries) println(opts.json ? JSON.stringify(e) : line(e, opts.repository === true));
      if (!opts.json) println(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`);
    });
  cmd
    .command('verify')
    .description('check both copies of the trail: every entry sealed, chained, none missing or out of order, and the two copies agreeing')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, c: Command) => {
      const o = repoOptions(c);
      const r = await withRepository(o, (repo) => auditTrail(repo, o).verify());
      if (opts.json) printJson({ ok: r.problems.length === 0, ...r });
      else {
        for (const p of r.problems) warn(p);
        println(`audit trail: ${r.localEntries} local entr${r.localEntries === 1 ? 'y' : 'ies'}, ${r.repositoryEntries} in the repository (${r.chains} chain(s))`);
        println(r.problems.length ? `${r.problems.length} problem(s) found` : 'intact');
      }
      if (r.problems.length) throw new VerificationFailedError(`the audit trail was tampered with or damaged: ${r.problems[0]}${r.problems.length > 1 ? ` (and ${r.problems.length - 1} more)` : ''}`);
    });
}

function line(e: AuditEntry, withChain: boolean): string {
  const counts = e.counts ? Object.entries(e.counts).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  const parts = [
    `${withChain ? `${e.chain}/` : ''}${e.seq}`,
    e.time.slice(0, 19).replace('T', ' '),
    `${e.user}@${e.host}`,
    e.action,
    e.result + (e.error ? ` (${e.error})` : ''),
    e.snapshot ? e.snapshot.slice(0, 8) : '',
    e.paths?.join(',') ?? '',
    counts,
    e.detail ?? '',
  ];
  return parts.filter((p) => p !== '').join('  ');
}
