import { mockIPC } from '@tauri-apps/api/mocks';
import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { App } from './App';
import { APP_INFO_COMMAND, type AppInfo, loadAppInfoFromTauri, loadAppInfoOutsideTauri } from './appInfo';

const sampleTerminal: AppInfo = { town: '見本市', terminal: '本庁1', mode: 'embedded', version: '0.1.0' };

/** Answers `app_info` over the mocked Tauri IPC and records every command asked for. */
function mockAppInfoCommand(info: AppInfo): string[] {
  const commandsAsked: string[] = [];
  mockIPC((command) => {
    commandsAsked.push(command);
    if (command === APP_INFO_COMMAND) return info;
    throw new Error(`unexpected command ${command}`);
  });
  return commandsAsked;
}

function heading(): string | null {
  return screen.getByRole('heading', { level: 1 }).textContent;
}

describe('App', () => {
  it('shows the Tauri app_info answer in Japanese by default, then in English', async () => {
    const commandsAsked = mockAppInfoCommand(sampleTerminal);
    render(<App loadAppInfo={loadAppInfoFromTauri} />);

    expect(heading()).toBe('kofu 窓口');
    expect(screen.getByRole('status').textContent).toBe('端末情報を取得しています…');
    expect(await screen.findByText('見本市・本庁1・組込みモード・バージョン 0.1.0')).toBeDefined();
    expect(screen.getByText('この画面は仮のものです。証明書の発行画面は今後追加されます。')).toBeDefined();
    expect(screen.getByRole('button', { name: '日本語' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByRole('group', { name: '表示言語' })).toBeDefined();
    expect(document.documentElement.lang).toBe('ja');

    fireEvent.click(screen.getByRole('button', { name: 'English' }));

    expect(heading()).toBe('kofu Counter');
    expect(screen.getByRole('status').textContent).toBe('見本市 · 本庁1 · Embedded mode · version 0.1.0');
    expect(
      screen.getByText('This is a placeholder screen. Certificate issuing screens will be added later.'),
    ).toBeDefined();
    expect(screen.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByRole('group', { name: 'Display language' })).toBeDefined();
    expect(document.documentElement.lang).toBe('en');

    fireEvent.click(screen.getByRole('button', { name: '日本語' }));
    expect(heading()).toBe('kofu 窓口');

    expect(commandsAsked).toEqual([APP_INFO_COMMAND]);
  });

  it('names the server mode in both languages', async () => {
    mockAppInfoCommand({ ...sampleTerminal, mode: 'server' });
    render(<App loadAppInfo={loadAppInfoFromTauri} initialLocale="en" />);

    expect(await screen.findByText('見本市 · 本庁1 · Server mode · version 0.1.0')).toBeDefined();
    fireEvent.click(screen.getByRole('button', { name: '日本語' }));
    expect(screen.getByRole('status').textContent).toBe('見本市・本庁1・サーバ接続モード・バージョン 0.1.0');
  });

  it('says there is no terminal information outside Tauri', async () => {
    render(<App loadAppInfo={loadAppInfoOutsideTauri} />);

    expect(await screen.findByText('アプリの外で表示しているため、端末情報はありません。')).toBeDefined();
    fireEvent.click(screen.getByRole('button', { name: 'English' }));
    expect(screen.getByRole('status').textContent).toBe(
      'Not running inside the app, so there is no terminal information.',
    );
  });

  it('reports a failed app_info call with its reason', async () => {
    const failingLoader = vi.fn(() => Promise.reject(new Error('database locked')));
    render(<App loadAppInfo={failingLoader} />);

    expect(await screen.findByText('端末情報を取得できませんでした（Error: database locked）')).toBeDefined();
    expect(failingLoader).toHaveBeenCalledTimes(1);
  });
});
