// Entry point: mounts the counter screen, talking to Rust over Tauri's IPC
// when running inside the app.
import { isTauri } from '@tauri-apps/api/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './App';
import { loadAppInfoFromTauri, loadAppInfoOutsideTauri } from './appInfo';
import './styles.css';

const rootElement = document.getElementById('root');
if (rootElement === null) {
  throw new Error('index.html has no #root element');
}

createRoot(rootElement).render(
  <StrictMode>
    <App loadAppInfo={isTauri() ? loadAppInfoFromTauri : loadAppInfoOutsideTauri} />
  </StrictMode>,
);
