/**
 * Where local state lives. A module of its own, free of the catalog and repository code,
 * so that `coffre status` (which must answer fast) can resolve it without loading them.
 * @module
 */
import { homedir } from 'node:os';
import * as path from 'node:path';

/** `--state-dir`, then COFFRE_STATE_DIR, then $XDG_STATE_HOME/coffre, then ~/.local/state/coffre. */
export function resolveStateDir(stateDir?: string): string {
  const given = stateDir ?? process.env.COFFRE_STATE_DIR;
  if (given) return path.resolve(given);
  const xdg = process.env.XDG_STATE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.local', 'state'), 'coffre');
}
