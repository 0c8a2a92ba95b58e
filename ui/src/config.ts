// Settings of the counter UI that are constants rather than terminal settings.

/** Minutes without keyboard or mouse input after which the screen locks. */
export const IDLE_LOCK_MINUTES = 5;

/** The idle lock in milliseconds. */
export const IDLE_LOCK_MS = IDLE_LOCK_MINUTES * 60 * 1000;

/** The most copies of one certificate in one request (CounterRequest.copies). */
export const MAX_COPIES = 10;
