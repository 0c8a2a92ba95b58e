// Test helpers: a mocked Tauri back end (app_info, counter_call routes,
// print_document, save_export, demo_totp, enrol_first_admin) over @tauri-apps/api/mocks.
import { mockIPC } from '@tauri-apps/api/mocks';

import type { AppInfo } from './appInfo';

export const SAMPLE_INFO: AppInfo = {
  town: '見本市',
  terminal: '本庁1',
  printer: 'P001',
  queue: null,
  mode: 'embedded',
  server: 'in-process',
  version: '0.1.0',
  today: '2026-05-07',
  demo_staff: [],
  needs_first_admin: false,
};

/** A recorded call to the mocked back end. */
export interface Call {
  readonly command: string;
  readonly args: Record<string, unknown>;
}

/** A counter API route's answer: `[status, body]`, or a function of the request body. */
export type Route = readonly [number, unknown] | ((body: unknown, path: string) => readonly [number, unknown]);

/** Routes keyed `METHOD /path` (the path without its query string); a route may be a list answered in turn. */
export type Routes = Record<string, Route | Route[]>;

export const error = (code: string, message = 'メッセージ') => ({ error: { code, message } });

/**
 * GET /counter/v1/options as the server answers it: the counter column of the domain's
 * option matrix, in its order. A Rust test (crates/kofu-server/tests/server/options.rs)
 * fails when this differs from the matrix, so the UI's tests run against the real one.
 */
export const OPTION_MATRIX: Readonly<Record<string, readonly string[]>> = {
  juminhyo: ['household', 'show_relationship', 'show_honseki', 'show_my_number', 'show_former_surname', 'show_resident_code', 'omit_seal'],
  kisai_jiko: ['household', 'show_relationship', 'show_my_number', 'show_former_surname', 'omit_seal'],
  inkan: ['show_former_surname', 'omit_seal'],
  koseki_zenbu: ['omit_seal'],
  koseki_kojin: ['omit_seal'],
  fuhyo: ['omit_seal'],
  shotoku_kazei: ['tax_year', 'omit_seal'],
};

/** Routes every mocked back end answers unless a test says otherwise. */
const DEFAULT_ROUTES: Routes = {
  'GET /counter/v1/options': [200, { kinds: OPTION_MATRIX }],
};

/** Mocks the shell: answers the IPC commands and records every call. */
export function mockBackend(
  routes: Routes,
  options: {
    info?: Partial<AppInfo>;
    totp?: string;
    print?: (args: Record<string, unknown>) => unknown;
    save?: (args: Record<string, unknown>) => unknown;
    /** Answers `enrol_first_admin` (it may throw `{code, message}`); refused as `not_first` unless given. */
    firstAdmin?: (args: Record<string, unknown>) => unknown;
  } = {},
): Call[] {
  const calls: Call[] = [];
  const queues = new Map<string, Route[]>();
  mockIPC((command, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ command, args });
    switch (command) {
      case 'app_info':
        return { ...SAMPLE_INFO, ...options.info };
      case 'demo_totp':
        if (options.totp === undefined) throw { code: 'not_demo', message: 'not demo' };
        return options.totp;
      case 'print_document':
        if (options.print) return options.print(args);
        return { queue: 'counter-1', job: `job-${calls.length}`, sha256: args.sha256 };
      case 'save_export':
        if (options.save) return options.save(args);
        return { path: `/home/clerk/Downloads/${String(args.filename)}`, bytes: atob(String(args.contentBase64)).length };
      case 'enrol_first_admin':
        if (options.firstAdmin) return options.firstAdmin(args);
        throw { code: 'not_first', message: 'staff exist' };
      case 'counter_call': {
        const path = String(args.path);
        const key = `${String(args.method)} ${path.split('?')[0] ?? ''}`;
        let route = routes[key] ?? DEFAULT_ROUTES[key];
        if (Array.isArray(route) && typeof route[0] !== 'number') {
          const list = queues.get(key) ?? [...(route as Route[])];
          queues.set(key, list);
          route = list.length > 1 ? list.shift() : list[0];
        }
        if (route === undefined) return { status: 404, body: error('not_found', `no route ${key}`) };
        const [status, body] = typeof route === 'function' ? route(args.body, path) : (route as readonly [number, unknown]);
        // Status 0 stands for a server the shell could not reach.
        if (status === 0) throw { code: 'unreachable', message: 'connection refused' };
        return { status, body };
      }
      default:
        throw new Error(`unexpected command ${command}`);
    }
  });
  return calls;
}

/** The counter_call requests made, as `METHOD path`. */
export function apiCalls(calls: readonly Call[]): string[] {
  return calls.filter((call) => call.command === 'counter_call').map((call) => `${String(call.args.method)} ${String(call.args.path)}`);
}

/** The body of the last counter_call to `METHOD path`. */
export function lastBody(calls: readonly Call[], method: string, path: string): unknown {
  const found = calls.filter((call) => call.command === 'counter_call' && call.args.method === method && call.args.path === path);
  return found[found.length - 1]?.args.body;
}

export const loginAs = (login: string, role: string) => [200, { staff: { login, role }, expires_idle_secs: 900 }] as const;
