// Alt+key shortcuts. Each screen registers the keys of the buttons it shows
// (the key is printed on the button); the shell turns them off while locked.
import { createContext, useContext, useEffect, useRef } from 'react';

/** Whether shortcuts are live (false under the lock screen). */
export const HotkeysEnabled = createContext(true);

/** `KeyboardEvent.code` for an Alt shortcut letter or digit, e.g. `n` → `KeyN`, `1` → `Digit1`. */
function codeOf(key: string): string {
  return /^\d$/.test(key) ? `Digit${key}` : `Key${key.toUpperCase()}`;
}

/** Runs `handlers[key]` on Alt+key (by physical key, so layouts and macOS Option work). */
export function useHotkeys(handlers: Readonly<Record<string, (() => void) | false | undefined>>): void {
  const enabled = useContext(HotkeysEnabled);
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    if (!enabled) return undefined;
    const onKeyDown = (event: KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      for (const [key, handler] of Object.entries(latest.current)) {
        if (handler && event.code === codeOf(key)) {
          event.preventDefault();
          handler();
          return;
        }
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [enabled]);
}
