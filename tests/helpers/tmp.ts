import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temporary directory removed after the test file (kept if COFFRE_KEEP_TMP is set). */
export function tempDir(prefix = 'coffre-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => {
    if (!process.env.COFFRE_KEEP_TMP) {
      // Restored read-only directories would block rm: open them up first.
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    }
  });
  return dir;
}

export function passwordFile(dir: string, password = 'correct horse battery staple'): string {
  const f = path.join(dir, `pw-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, `${password}\n`);
  chmodSync(f, 0o600);
  return f;
}
