// Exit statuses shared by every command (Spectral's convention): 0 clean, 1 findings at or
// above the threshold, 2 usage or input error.
export const EXIT_CLEAN = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export { UsageError } from '../runtime/usage-error.js';
