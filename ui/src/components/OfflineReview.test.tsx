import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { createApi } from '../api';
import { lastBody, mockBackend } from '../testUtil';
import { OfflineReview } from './OfflineReview';

const flagged = (resolution: unknown) => ({
  open_flags: resolution ? 0 : 1,
  terminals: [
    {
      terminal: '本庁1',
      entries: 5,
      first_at: '2026-05-07T01:00:00Z',
      last_at: '2026-05-07T02:00:00Z',
      issuances: [
        { issuance_id: 'i1', staff: 'madoguchi', subject_id: '00000000019', at: '2026-05-07T01:10:00Z', override_used: false,
          flag: { flag_id: 'f1', replica_seq: 41, changes: [{ seq: 42, type: 'support_measure', op: 'upsert' }], resolution } },
        { issuance_id: 'i2', staff: 'madoguchi', subject_id: '00000000043', at: '2026-05-07T01:20:00Z', override_used: false, flag: null },
      ],
    },
  ],
});

describe('offline review', () => {
  it('lists what each terminal issued offline, flags what changed since, and resolves a flag once with a note', async () => {
    const calls = mockBackend({
      'GET /counter/v1/offline/review': [
        [200, flagged(null)],
        [200, flagged({ resolution: 'recalled', note: '回収済み', supervisor: 'kakaricho', at: '2026-05-07T03:00:00Z' })],
      ],
      'POST /counter/v1/offline/flags/f1/resolution': [200, { flag_id: 'f1', resolution: 'recalled' }],
    });
    render(<OfflineReview api={createApi()} />);
    expect((await screen.findByTestId('offline-open-flags')).textContent).toBe('未確認のフラグ: 1 件');
    expect(screen.getAllByTestId('offline-issuance')).toHaveLength(2);
    expect(screen.getByTestId('offline-flag').textContent).toContain('#42 support_measure upsert');
    fireEvent.change(screen.getByLabelText('確認メモ'), { target: { value: '回収済み' } });
    fireEvent.click(screen.getByTestId('resolve-recalled'));
    await waitFor(() => expect(screen.getByTestId('offline-flag').textContent).toContain('回収（kakaricho）'));
    expect(lastBody(calls, 'POST', '/counter/v1/offline/flags/f1/resolution')).toEqual({ resolution: 'recalled', note: '回収済み' });
    expect(screen.queryByTestId('resolve-recalled')).toBeNull();
  });
});
