/** Set-up problems the emulator stages for `auditrelay doctor` (`auditrelay emulate --stage NAME`). */
export const GOOGLE_STAGES = ['no-delegation', 'no-reports-privilege', 'clock-skew'] as const;
