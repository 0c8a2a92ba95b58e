// Runs before every test file: unmounts rendered trees and removes Tauri IPC
// mocks after each test, so tests cannot leak into one another.
import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => {
  cleanup();
  clearMocks();
});
