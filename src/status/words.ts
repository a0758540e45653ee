/**
 * Durations and times as the verdicts word them: coarse, because "recovery point 2 h 05 min
 * old" is what an admin reads at 3 a.m., not milliseconds.
 * @module
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/**
 * 45 s, 65 min, 2 h 05 min, 24 h, 3 days 4 h. Minutes up to two hours, so that an age and
 * an objective of "60 min" compare at a glance; zero sub-units are left out.
 */
export function span(ms: number): string {
  const t = Math.max(0, ms);
  if (t < MIN) return `${Math.round(t / 1000)} s`;
  if (t < 2 * HOUR) return `${Math.floor(t / MIN)} min`;
  if (t < 2 * DAY) {
    const m = Math.floor((t % HOUR) / MIN);
    return `${Math.floor(t / HOUR)} h${m ? ` ${String(m).padStart(2, '0')} min` : ''}`;
  }
  const h = Math.floor((t % DAY) / HOUR);
  return `${Math.floor(t / DAY)} days${h ? ` ${h} h` : ''}`;
}

/** 2025-03-04 05:06 UTC */
export function when(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
