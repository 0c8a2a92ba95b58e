// What the Rust side says about this terminal (the `app_info` command), and
// the ways the UI obtains it: through Tauri's IPC inside the app, or not at
// all when the page runs in a plain browser.
import { invoke } from '@tauri-apps/api/core';

/** How the terminal reaches its data; mirrors the Rust `CounterMode`. */
export type CounterMode = 'embedded' | 'server';

/** The answer of the Tauri command `app_info`; mirrors the Rust `AppInfo`. */
export interface AppInfo {
  /** The town whose hall runs this counter, e.g. 見本市. */
  readonly town: string;
  /** The counter terminal's name, e.g. 本庁1. */
  readonly terminal: string;
  /** How the terminal reaches its data. */
  readonly mode: CounterMode;
  /** The app's version, e.g. 0.1.0. */
  readonly version: string;
}

/** Obtains the terminal information; injected into the UI so tests can replace it. */
export type AppInfoLoader = () => Promise<AppInfo>;

/** The name of the Tauri command answering with an {@link AppInfo}. */
export const APP_INFO_COMMAND = 'app_info';

/** Asks the Rust side for the terminal information over Tauri's IPC. */
export const loadAppInfoFromTauri: AppInfoLoader = () => invoke<AppInfo>(APP_INFO_COMMAND);

/** Raised when the page runs outside Tauri, where no terminal information exists. */
export class OutsideTauriError extends Error {
  constructor() {
    super('the page is not running inside the Tauri app');
    this.name = 'OutsideTauriError';
  }
}

/** The loader used outside Tauri (a plain browser): it always fails with {@link OutsideTauriError}. */
export const loadAppInfoOutsideTauri: AppInfoLoader = () => Promise.reject(new OutsideTauriError());
