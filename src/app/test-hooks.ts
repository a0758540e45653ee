/**
 * Test-only hooks, read from the environment, so that end-to-end tests can stop a real
 * backup process at an exact point and kill it there (DESIGN invariant 5: a backup killed
 * at any instant must leave a repository `check` accepts, and the next run must resume).
 *
 * COFFRE_TEST_PAUSE_BEFORE_SNAPSHOT=FILE: once every pack and index object of the backup
 * is stored, just before the snapshot object is written, the process writes its pid to
 * FILE and waits while FILE exists (the test kills it, or deletes FILE to let it go on).
 * Unset (always, outside tests), it costs one environment lookup per backup.
 * @module
 */
import * as fs from 'node:fs';

export async function testPauseBeforeSnapshot(): Promise<void> {
  const file = process.env.COFFRE_TEST_PAUSE_BEFORE_SNAPSHOT;
  if (!file) return;
  fs.writeFileSync(file, `${process.pid}\n`);
  while (fs.existsSync(file)) await new Promise((r) => setTimeout(r, 20));
}

/**
 * COFFRE_TEST_PAUSE_IN_PRUNE=STEP:FILE: prune pauses the same way at STEP (see
 * src/prune/prune.ts for the steps), so a test can SIGKILL it exactly there.
 */
export async function testPauseInPrune(step: string): Promise<void> {
  const spec = process.env.COFFRE_TEST_PAUSE_IN_PRUNE;
  if (!spec || !spec.startsWith(`${step}:`)) return;
  const file = spec.slice(step.length + 1);
  fs.writeFileSync(file, `${process.pid}\n`);
  while (fs.existsSync(file)) await new Promise((r) => setTimeout(r, 20));
}
