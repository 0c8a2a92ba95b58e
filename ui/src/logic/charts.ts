// Shaping the report's count maps into bars for the inline SVG charts.

/** One bar: its key (as in the report), the label shown and its count. */
export interface Bar {
  readonly key: string;
  readonly label: string;
  readonly value: number;
}

/** A count as a finite whole number ≥ 0 (anything else counts as 0). */
function countOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * Bars for a count map: the keys of `order` first (with 0 when absent), then any
 * other key the server sent, sorted; labels from `label`.
 */
export function barsOf(
  counts: Readonly<Record<string, unknown>> | undefined,
  order: readonly string[] = [],
  label: (key: string) => string = (key) => key,
): Bar[] {
  const source = counts ?? {};
  const extra = Object.keys(source)
    .filter((key) => !order.includes(key))
    .sort();
  return [...order, ...extra].map((key) => ({ key, label: label(key), value: countOf(source[key]) }));
}

/** The 24 hours `00`..`23`, each a bar (an hour absent from the report is 0). */
export function hourBars(byHour: Readonly<Record<string, unknown>> | undefined): Bar[] {
  const source: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(byHour ?? {})) {
    const hour = Number.parseInt(key, 10);
    if (Number.isInteger(hour) && hour >= 0 && hour < 24) source[String(hour).padStart(2, '0')] = value;
  }
  const hours = Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, '0'));
  return barsOf(source, hours);
}

/** The largest value (at least 1, so an all-zero chart still scales). */
export function maxOf(bars: readonly Bar[]): number {
  return bars.reduce((max, bar) => Math.max(max, bar.value), 1);
}

/** The sum of the bars. */
export function totalOf(bars: readonly Bar[]): number {
  return bars.reduce((sum, bar) => sum + bar.value, 0);
}
