// The town's settings as the administration screen edits them: the API's values
// (docs/counter-api.yaml, /counter/v1/admin/settings) turned into form fields of
// strings and back, with the problems a form can see before the server checks the
// whole value.
import { base64OfBytes } from '../base64';
import { CERT_KINDS, type CertKind } from '../api';
import type { MessageKey } from '../i18n';

/** A setting in force: its value, revision and who changed it last. */
export interface SettingState {
  readonly setting: string;
  readonly value: unknown;
  readonly revision: number;
  readonly changed_by: string | null;
  readonly changed_at: string | null;
}

/** One past change. */
export interface SettingChangeRecord {
  readonly setting: string;
  readonly revision: number;
  readonly reason: string;
  readonly staff: string;
  readonly at: string;
}

/** GET /admin/settings. */
export interface SettingsAnswer {
  readonly town: readonly SettingState[];
  readonly terminals: readonly SettingState[];
  readonly history: readonly SettingChangeRecord[];
}

/** A problem a form shows: the message key and the field it is about. */
export interface FormProblem {
  readonly key: MessageKey;
  readonly field: string;
}

/** A form turned into a value, or the first problem found. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: FormProblem };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const problem = <T>(key: MessageKey, field: string): Parsed<T> => ({ ok: false, problem: { key, field } });

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** Whole yen, 0 to 10,000 (the server checks the same). */
function yenOf(input: string): number | null {
  const trimmed = input.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  if (!/^\d{1,5}$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n <= 10000 ? n : null;
}

// ---------------------------------------------------------------------------------------
// Fees

/** A kind's fees as typed: an empty counter fee means the kind is not issued; an empty
 * kiosk fee means the counter fee applies at kiosks too. */
export interface FeeRow {
  readonly kind: CertKind;
  readonly counter: string;
  readonly kiosk: string;
}

/** The fee rows of a `fees` value, one per certificate kind. */
export function feeRows(value: unknown): FeeRow[] {
  const counter = record(record(value).counter);
  const kiosk = record(record(value).kiosk);
  return CERT_KINDS.map((kind) => ({ kind, counter: text(counter[kind]), kiosk: text(kiosk[kind]) }));
}

/** The `fees` value of the rows. */
export function feesValue(rows: readonly FeeRow[]): Parsed<{ counter: Record<string, number>; kiosk: Record<string, number> }> {
  const counter: Record<string, number> = {};
  const kiosk: Record<string, number> = {};
  for (const row of rows) {
    if (row.counter.trim() !== '') {
      const fee = yenOf(row.counter);
      if (fee === null) return problem('settings.problem.fee', `fee-counter-${row.kind}`);
      counter[row.kind] = fee;
    }
    if (row.kiosk.trim() !== '') {
      const fee = yenOf(row.kiosk);
      if (fee === null) return problem('settings.problem.fee', `fee-kiosk-${row.kind}`);
      if (counter[row.kind] === undefined) return problem('settings.problem.kiosk_without_counter', `fee-kiosk-${row.kind}`);
      kiosk[row.kind] = fee;
    }
  }
  return ok({ counter, kiosk });
}

// ---------------------------------------------------------------------------------------
// Kiosk hours

/** Kiosk hours as typed (`HH:MM`); an empty 戸籍 pair means not offered. */
export interface HoursForm {
  readonly open: string;
  readonly close: string;
  readonly kosekiWeekdayOpen: string;
  readonly kosekiWeekdayClose: string;
  readonly kosekiHolidayOpen: string;
  readonly kosekiHolidayClose: string;
}

function pair(value: unknown): [string, string] {
  return Array.isArray(value) && value.length === 2 ? [text(value[0]), text(value[1])] : ['', ''];
}

/** The form of a `kiosk_hours` value. */
export function hoursForm(value: unknown): HoursForm {
  const kiosk = record(record(value).kiosk);
  const koseki = record(record(value).koseki);
  const [wo, wc] = pair(koseki.weekday);
  const [ho, hc] = pair(koseki.holiday);
  return { open: text(kiosk.open), close: text(kiosk.close), kosekiWeekdayOpen: wo, kosekiWeekdayClose: wc, kosekiHolidayOpen: ho, kosekiHolidayClose: hc };
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

function timePair(open: string, close: string, field: string): Parsed<[string, string] | null> {
  if (open.trim() === '' && close.trim() === '') return ok(null);
  if (!TIME.test(open.trim())) return problem('settings.problem.time', `${field}-open`);
  if (!TIME.test(close.trim())) return problem('settings.problem.time', `${field}-close`);
  if (open.trim() >= close.trim()) return problem('settings.problem.time_order', `${field}-close`);
  return ok([open.trim(), close.trim()]);
}

/** The `kiosk_hours` value of the form. */
export function hoursValue(form: HoursForm): Parsed<{ kiosk: { open: string; close: string }; koseki: { weekday: [string, string] | null; holiday: [string, string] | null } }> {
  const kiosk = timePair(form.open, form.close, 'hours-kiosk');
  if (!kiosk.ok) return kiosk;
  if (kiosk.value === null) return problem('settings.problem.time', 'hours-kiosk-open');
  const weekday = timePair(form.kosekiWeekdayOpen, form.kosekiWeekdayClose, 'hours-weekday');
  if (!weekday.ok) return weekday;
  const holiday = timePair(form.kosekiHolidayOpen, form.kosekiHolidayClose, 'hours-holiday');
  if (!holiday.ok) return holiday;
  return ok({ kiosk: { open: kiosk.value[0], close: kiosk.value[1] }, koseki: { weekday: weekday.value, holiday: holiday.value } });
}

// ---------------------------------------------------------------------------------------
// Certifier

/** A deputy as typed. */
export interface DeputyRow {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** The certifier as typed. */
export interface CertifierForm {
  readonly mayor: string;
  readonly deputies: readonly DeputyRow[];
}

/** The form of a `certifier` value. */
export function certifierForm(value: unknown): CertifierForm {
  const v = record(value);
  const deputies = Array.isArray(v.deputies) ? v.deputies.map(record) : [];
  return { mayor: text(v.mayor), deputies: deputies.map((d) => ({ name: text(d.name), from: text(d.from), to: text(d.to) })) };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The `certifier` value of the form (blank deputy rows are left out). */
export function certifierValue(form: CertifierForm): Parsed<{ mayor: string; deputies: DeputyRow[] }> {
  if (form.mayor.trim() === '') return problem('settings.problem.mayor', 'certifier-mayor');
  const deputies: DeputyRow[] = [];
  for (const [index, row] of form.deputies.entries()) {
    if (row.name.trim() === '' && row.from === '' && row.to === '') continue;
    if (row.name.trim() === '') return problem('settings.problem.deputy_name', `deputy-name-${index}`);
    if (!DATE.test(row.from)) return problem('settings.problem.date', `deputy-from-${index}`);
    if (!DATE.test(row.to)) return problem('settings.problem.date', `deputy-to-${index}`);
    if (row.from > row.to) return problem('settings.problem.date_order', `deputy-to-${index}`);
    deputies.push({ name: row.name.trim(), from: row.from, to: row.to });
  }
  return ok({ mayor: form.mayor.trim(), deputies });
}

// ---------------------------------------------------------------------------------------
// Terminals

/** A printer as typed. */
export interface PrinterRow {
  readonly code: string;
  readonly description: string;
  readonly active: boolean;
}

/** A terminal as typed. */
export interface TerminalForm {
  readonly name: string;
  readonly location: string;
  readonly active: boolean;
  readonly printers: readonly PrinterRow[];
}

/** The name a `terminal:NAME` setting is about. */
export function terminalName(setting: string): string {
  return setting.startsWith('terminal:') ? setting.slice('terminal:'.length) : setting;
}

/** The form of a registered terminal. */
export function terminalForm(state: SettingState): TerminalForm {
  const v = record(state.value);
  const printers = Array.isArray(v.printers) ? v.printers.map(record) : [];
  return {
    name: terminalName(state.setting),
    location: text(v.location),
    active: v.active !== false,
    printers: printers.map((p) => ({ code: text(p.code), description: text(p.description), active: p.active !== false })),
  };
}

/** The `terminal:NAME` setting and value of the form (blank printer rows left out). */
export function terminalValue(form: TerminalForm): Parsed<{ setting: string; value: { location: string; active: boolean; printers: PrinterRow[] } }> {
  const name = form.name.trim();
  if (name === '' || [...name].length > 32) return problem('settings.problem.terminal_name', 'terminal-name');
  const printers: PrinterRow[] = [];
  const seen = new Set<string>();
  for (const [index, row] of form.printers.entries()) {
    const code = row.code.trim();
    if (code === '' && row.description.trim() === '') continue;
    if (!/^[A-Za-z0-9]{1,8}$/.test(code)) return problem('settings.problem.printer_code', `printer-code-${index}`);
    if (seen.has(code)) return problem('settings.problem.printer_twice', `printer-code-${index}`);
    seen.add(code);
    printers.push({ code, description: row.description.trim(), active: row.active });
  }
  return ok({ setting: `terminal:${name}`, value: { location: form.location.trim(), active: form.active, printers } });
}

// ---------------------------------------------------------------------------------------
// Seal

/** The base64 of a seal PNG file's bytes (the server checks it is a usable seal). */
export function sealValue(png: Uint8Array): Parsed<{ png_base64: string }> {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 8 || signature.some((byte, i) => png[i] !== byte)) return problem('settings.problem.png', 'seal-file');
  return ok({ png_base64: base64OfBytes(png) });
}

/** The seal's data URL for the preview, if there is one. */
export function sealImage(value: unknown): string | null {
  const b64 = record(value).png_base64;
  return typeof b64 === 'string' && b64 !== '' ? `data:image/png;base64,${b64}` : null;
}
