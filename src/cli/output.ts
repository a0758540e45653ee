/**
 * Where commands write: results on stdout (text or one JSON document), everything else
 * (progress, warnings, per-file errors) on stderr, so `--json` output can be piped.
 * @module
 */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`coffre: ${line}\n`);
}
