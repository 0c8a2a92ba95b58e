import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { Connectivity } from '../ipc';
import { ConnectivityBanner } from './ConnectivityBanner';

const offline: Connectivity = {
  online: false,
  since: '2026-05-07T01:00:00Z',
  replica_unlocked: true,
  replica: {
    replica_seq: 1042,
    replica_current_at: '2026-05-07T00:40:00Z',
    replica_age_secs: 3900,
    unsynced_issuances: 3,
    numbers_left: 497,
    refusal: null,
  },
  last_sync: null,
  registered: true,
};

describe('connectivity banner', () => {
  it('says the terminal is offline, how old its data is and what is unsynced', async () => {
    render(<ConnectivityBanner load={() => Promise.resolve(offline)} />);
    const banner = await screen.findByTestId('offline-banner');
    expect(banner.getAttribute('role')).toBe('alert');
    expect(screen.getByTestId('offline-age').textContent).toBe('複製データの確認: 1h05m 前（イベント 1042 まで）・未送信 3 件・残り番号 497 件');
  });

  it('shows why issuing is refused past the offline bounds', async () => {
    const refused = { ...offline, replica: { ...offline.replica!, refusal: '3 issuances are not yet synced' } };
    render(<ConnectivityBanner load={() => Promise.resolve(refused)} />);
    expect((await screen.findByText(/発行できません: 3 issuances/)).textContent).toContain('3 issuances');
  });

  it('is silent online with nothing pending, and says what waits for a login otherwise', async () => {
    const { unmount } = render(<ConnectivityBanner load={() => Promise.resolve({ ...offline, online: true, replica: { ...offline.replica!, unsynced_issuances: 0 } })} />);
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByTestId('offline-banner')).toBeNull();
    expect(screen.queryByTestId('offline-pending')).toBeNull();
    unmount();
    render(<ConnectivityBanner load={() => Promise.resolve({ ...offline, online: true })} />);
    expect((await screen.findByTestId('offline-pending')).textContent).toContain('3 件');
  });

  it('asks an unregistered terminal for its enrolment code and registers it', async () => {
    const sent: string[] = [];
    const register = (code: string) => {
      sent.push(code);
      return Promise.resolve(
        code === 'ABCD-EFGH-JKLM-NPQR'
          ? { status: 200, body: { name: '本庁1', state: 'active' } }
          : { status: 401, body: { error: { code: 'terminal_unverified', message: 'コードが違います' } } },
      );
    };
    render(<ConnectivityBanner load={() => Promise.resolve({ ...offline, online: true, registered: false })} register={register} />);
    const input = await screen.findByTestId('enrolment-code');
    expect(screen.getByTestId('terminal-enrolment').textContent).toContain('端末登録コード');
    fireEvent.change(input, { target: { value: 'WRONG' } });
    fireEvent.click(screen.getByTestId('enrol-terminal'));
    expect((await screen.findByTestId('enrolment-outcome')).textContent).toBe('登録できませんでした: コードが違います');
    fireEvent.change(input, { target: { value: ' ABCD-EFGH-JKLM-NPQR ' } });
    fireEvent.click(screen.getByTestId('enrol-terminal'));
    await screen.findByText('端末を登録しました。');
    expect(sent).toEqual(['WRONG', 'ABCD-EFGH-JKLM-NPQR']);
  });
});
