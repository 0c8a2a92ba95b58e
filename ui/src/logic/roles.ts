// Which screens a role sees, from the role table of docs/counter-api.yaml.

/** A screen of the shell's navigation. */
export type Screen = 'request' | 'close' | 'report' | 'admin';

/** Every screen in navigation order; Alt+1..4 follow this order. */
export const SCREENS: readonly Screen[] = ['request', 'close', 'report', 'admin'];

/**
 * request: search/preview/issue (clerk, supervisor, support_officer);
 * close: count cash (clerk, supervisor; the sign-off needs a supervisor's login);
 * report: view report (supervisor, admin); admin: manage staff (admin).
 */
const SCREENS_BY_ROLE: Readonly<Record<string, readonly Screen[]>> = {
  clerk: ['request', 'close'],
  supervisor: ['request', 'close', 'report'],
  support_officer: ['request'],
  admin: ['report', 'admin'],
};

/** The screens `role` may open, in navigation order (none for an unknown role). */
export function screensFor(role: string): readonly Screen[] {
  return Object.prototype.hasOwnProperty.call(SCREENS_BY_ROLE, role) ? (SCREENS_BY_ROLE[role] ?? []) : [];
}

/** The shortcut that opens `screen` (Alt+1..4, fixed whatever the role). */
export function shortcutOf(screen: Screen): string {
  return `Alt+${SCREENS.indexOf(screen) + 1}`;
}
