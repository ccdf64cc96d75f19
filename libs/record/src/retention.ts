/** A recording retention may delete. */
export interface RetentionCandidate {
  id: number;
  size: number;
}

/** Filesystem usage in bytes (from fs.statfs). */
export interface DiskUsage {
  total: number;
  /** What is not available to the server (total minus bavail). */
  used: number;
}

/** Usage in percent. */
export function diskPercent(usage: DiskUsage): number {
  return usage.total > 0 ? (usage.used / usage.total) * 100 : 0;
}

/**
 * The oldest recordings to delete so that the disk use falls to `maxPercent` or below, counting each file's
 * size as freed. `oldestFirst` is sorted by start time. Empty when under the limit or the limit is 0.
 */
export function pickForDiskLimit<T extends RetentionCandidate>(oldestFirst: readonly T[], usage: DiskUsage, maxPercent: number): T[] {
  if (maxPercent <= 0 || usage.total <= 0) return [];
  const allowed = (usage.total * maxPercent) / 100;
  let excess = usage.used - allowed;
  const picked: T[] = [];
  for (const candidate of oldestFirst) {
    if (excess <= 0) break;
    picked.push(candidate);
    excess -= candidate.size;
  }
  return picked;
}

/** Start times before this are past retention.maxAgeDays (undefined when it is 0: no age limit). */
export function maxAgeCutoff(now: number, maxAgeDays: number): number | undefined {
  return maxAgeDays > 0 ? now - maxAgeDays * 86_400_000 : undefined;
}

/** The next run of a job repeated every `interval` ms: slots aligned on multiples of the interval (so every node picks the same one). */
export function nextSlot(now: number, interval: number): number {
  return (Math.floor(now / interval) + 1) * interval;
}
