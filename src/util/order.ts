/**
 * Ordering the strings Coffre writes itself: ISO-8601 UTC times from `toISOString()` (one
 * fixed format, so character order is time order), lowercase hex ids and object keys.
 *
 * Not `localeCompare`: that is ICU's collation, which a command paid for the first time it
 * sorted anything (a restore sorts the snapshots to find `latest`): its collation data, about
 * 5 MiB of node's read-only pages, stayed resident, and a restore peaked that much higher.
 * @module
 */

/** Orders two machine-written strings by their UTF-16 code units. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
