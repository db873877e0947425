/** Set-up problems the emulator stages for `auditrelay doctor` (`auditrelay emulate --stage NAME`). */
export const O365_STAGES = ['wrong-secret', 'no-subscription', 'disabled-subscription', 'audit-off', 'clock-skew'] as const;
