// The supervisor's report as CSV: one section per part of the report.
import type { DayReport, ReportRow } from '../api';

/**
 * Quotes a CSV field when it needs it. A text that a spreadsheet would read as a
 * formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return: an override
 * reason typed by staff, a name from the registry) is prefixed with `'`, so that
 * opening the export never runs it. Numbers are written as they are.
 */
export function csvField(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const raw = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const text = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function line(fields: readonly unknown[]): string {
  return fields.map(csvField).join(',');
}

function countSection(name: string, counts: Readonly<Record<string, number>> | undefined): string[] {
  return Object.entries(counts ?? {}).map(([key, value]) => line([name, key, value]));
}

function rowSection(name: string, rows: readonly ReportRow[] | undefined): string[] {
  const list = rows ?? [];
  if (list.length === 0) return [];
  const columns = [...new Set(list.flatMap((row) => Object.keys(row)))];
  return [line([name, ...columns]), ...list.map((row) => line([name, ...columns.map((column) => row[column])]))];
}

/** The report as CSV (CRLF lines, with a BOM so spreadsheet software reads it as UTF-8). */
export function reportCsv(report: DayReport): string {
  const anomalies = report.access_anomalies ?? {};
  const lines = [
    line(['section', 'key', 'value']),
    line(['day', '', report.day]),
    line(['copies', '', report.copies ?? 0]),
    ...countSection('by_kind', report.by_kind),
    ...countSection('by_channel', report.by_channel),
    ...countSection('by_hour', report.by_hour),
    ...countSection('by_staff', report.by_staff),
    ...rowSection('voids', report.voids),
    ...rowSection('overrides', report.overrides),
    ...rowSection('kiosk_failures', report.kiosk_failures),
    ...rowSection('kiosk_without_outcome', report.kiosk_without_outcome),
    ...rowSection('kiosk_errors', report.kiosk_errors),
    ...rowSection('render_alerts', report.render_alerts),
    ...rowSection('replica_downloads', report.replica_downloads),
    ...rowSection('print_failures', report.print_failures),
    ...rowSection('late_night', anomalies.late_night),
    ...rowSection('many_lookups', anomalies.many_lookups),
    ...rowSection('lookups_without_issuance', anomalies.lookups_without_issuance),
    ...rowSection('denied', anomalies.denied),
  ];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
