// What the Rust side says about this terminal (the `app_info` command), and
// the ways the UI obtains it: through Tauri's IPC inside the app, or not at
// all when the page runs in a plain browser.
import * as ipc from './ipc';

/** How the terminal reaches its data; mirrors the Rust `CounterMode`. */
export type CounterMode = 'embedded' | 'server';

/** A demo account offered on the login screen in embedded demo mode. */
export interface DemoStaff {
  readonly login: string;
  readonly role: string;
  readonly password: string;
}

/** The answer of the Tauri command `app_info`; mirrors the Rust `AppInfo`. */
export interface AppInfo {
  /** The town whose hall runs this counter, e.g. 見本市. */
  readonly town: string;
  /** The counter terminal's name, e.g. 本庁1 (CounterRequest.terminal). */
  readonly terminal: string;
  /** The printer's ID in issue numbers, e.g. P001 (CounterRequest.printer). */
  readonly printer: string;
  /** The CUPS queue print_document sends to, or null for the default destination. */
  readonly queue: string | null;
  /** How the terminal reaches its data. */
  readonly mode: CounterMode;
  /** "in-process" or the server's base URL. */
  readonly server: string;
  /** The app's version, e.g. 0.1.0. */
  readonly version: string;
  /** The local (JST) business day, YYYY-MM-DD. */
  readonly today: string;
  /** Demo accounts (embedded demo mode only, else empty). */
  readonly demo_staff: readonly DemoStaff[];
  /** Whether the terminal must create its first administrator before anyone can log in
   * (embedded mode, an empty database, not demo mode). */
  readonly needs_first_admin: boolean;
}

/** Obtains the terminal information; injected into the UI so tests can replace it. */
export type AppInfoLoader = () => Promise<AppInfo>;

/** The name of the Tauri command answering with an {@link AppInfo}. */
export const APP_INFO_COMMAND = ipc.COMMANDS.appInfo;

/** Today's date on this machine as YYYY-MM-DD (used only if the shell does not say). */
export function localToday(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Fills the fields an older shell may leave out, so the UI can rely on them. */
export function normalizeAppInfo(raw: Partial<AppInfo>): AppInfo {
  return {
    town: raw.town ?? '',
    terminal: raw.terminal ?? '',
    printer: raw.printer ?? '',
    queue: raw.queue ?? null,
    mode: raw.mode === 'server' ? 'server' : 'embedded',
    server: raw.server ?? '',
    version: raw.version ?? '',
    today: typeof raw.today === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(raw.today) ? raw.today : localToday(),
    demo_staff: Array.isArray(raw.demo_staff) ? raw.demo_staff : [],
    needs_first_admin: raw.needs_first_admin === true,
  };
}

/** Asks the Rust side for the terminal information over Tauri's IPC. */
export const loadAppInfoFromTauri: AppInfoLoader = async () => normalizeAppInfo(await ipc.appInfo());

/** Raised when the page runs outside Tauri, where no terminal information exists. */
export class OutsideTauriError extends Error {
  constructor() {
    super('the page is not running inside the Tauri app');
    this.name = 'OutsideTauriError';
  }
}

/** The loader used outside Tauri (a plain browser): it always fails with {@link OutsideTauriError}. */
export const loadAppInfoOutsideTauri: AppInfoLoader = () => Promise.reject(new OutsideTauriError());
