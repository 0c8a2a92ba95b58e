// The one module that talks to the Rust side: every Tauri command of
// docs/counter-app-ipc.md, typed. Nothing else in the UI calls `invoke`, so
// tests replace the app's back end with `mockIPC` (or by mocking this module).
import { invoke } from '@tauri-apps/api/core';

import type { Enrolled } from './api';
import type { AppInfo } from './appInfo';

/** The Tauri commands the UI may call (docs/counter-app-ipc.md). */
export const COMMANDS = {
  appInfo: 'app_info',
  counterCall: 'counter_call',
  connectivity: 'connectivity',
  printDocument: 'print_document',
  saveExport: 'save_export',
  demoTotp: 'demo_totp',
  registerTerminal: 'register_terminal',
  enrolFirstAdmin: 'enrol_first_admin',
} as const;

/** The HTTP methods the counter API uses. */
export type HttpMethod = 'GET' | 'POST';

/** The answer of `counter_call`: the API's status and JSON body, untouched. */
export interface CounterReply {
  readonly status: number;
  readonly body: unknown;
}

/** The answer of `print_document`. */
export interface PrintJob {
  readonly queue: string;
  readonly job: string;
  readonly sha256: string;
}

/** A command refused by the shell, e.g. `{code: "unreachable", message}`. */
export interface IpcFailure {
  readonly code: string;
  readonly message: string;
}

/** Turns whatever a rejected command gave into an {@link IpcFailure}. */
export function ipcFailureOf(error: unknown): IpcFailure {
  if (typeof error === 'object' && error !== null) {
    const record = error as Record<string, unknown>;
    if (typeof record.code === 'string') {
      return { code: record.code, message: typeof record.message === 'string' ? record.message : '' };
    }
    if (error instanceof Error) return { code: 'ipc_error', message: error.message };
  }
  if (typeof error === 'string') return { code: 'ipc_error', message: error };
  return { code: 'ipc_error', message: String(error) };
}

/** `app_info`: which town, terminal, printer and mode this app runs as. */
export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>(COMMANDS.appInfo);
}

/** `counter_call`: one request to the counter API (the shell adds the session token). */
export function counterCall(method: HttpMethod, path: string, body?: unknown): Promise<CounterReply> {
  const args: Record<string, unknown> = { method, path };
  if (body !== undefined) args.body = body;
  return invoke<CounterReply>(COMMANDS.counterCall, args);
}

/** `print_document`: prints a PDF whose SHA-256 the shell checks before printing. */
export function printDocument(pdfBase64: string, sha256: string, title: string): Promise<PrintJob> {
  return invoke<PrintJob>(COMMANDS.printDocument, { pdfBase64, sha256, title });
}

/** The answer of `save_export`: where the file was written. */
export interface SavedExport {
  readonly path: string;
  readonly bytes: number;
}

/** `save_export`: saves an exported report in the terminal's export directory (the web
 * view cannot download: WebKitGTK ignores `<a download>` on a Blob URL). */
export function saveExport(filename: string, contentBase64: string): Promise<SavedExport> {
  return invoke<SavedExport>(COMMANDS.saveExport, { filename, contentBase64 });
}

/** `demo_totp`: the current code of a demo account (embedded demo mode only). */
export async function demoTotp(login: string): Promise<string> {
  const code = await invoke<unknown>(COMMANDS.demoTotp, { login });
  return String(code);
}

/** The replica's state on a server-mode terminal (`connectivity`). */
export interface ReplicaStatus {
  readonly replica_seq: number | null;
  readonly replica_current_at: string | null;
  readonly replica_age_secs: number | null;
  readonly unsynced_issuances: number;
  readonly numbers_left: number;
  readonly refusal: string | null;
}

/** The answer of `connectivity`: `null` in embedded mode. */
export interface Connectivity {
  readonly online: boolean;
  readonly since: string;
  readonly replica_unlocked: boolean;
  readonly replica: ReplicaStatus | null;
  readonly last_sync: string | null;
  /** Whether this terminal registered its own key (else offline work is unavailable). */
  readonly registered: boolean;
}

/** `connectivity`: whether the server answers, and the offline replica's state. */
export function connectivity(): Promise<Connectivity | null> {
  return invoke<Connectivity | null>(COMMANDS.connectivity);
}

/** `register_terminal`: registers this terminal's own key with an administrator's
 * one-time enrolment code; answers the server's status and body. */
export function registerTerminal(code: string): Promise<CounterReply> {
  return invoke<CounterReply>(COMMANDS.registerTerminal, { code });
}

/** `enrol_first_admin`: creates the first administrator of an embedded terminal with no
 * staff yet (`app_info`'s `needs_first_admin`); answers the TOTP secret, shown this once.
 * Rejects with `{code, message}`: `not_first` once staff exist, `weak_password`, … */
export function enrolFirstAdmin(login: string, password: string): Promise<Enrolled> {
  return invoke<Enrolled>(COMMANDS.enrolFirstAdmin, { login, password });
}
