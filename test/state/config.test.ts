import { describe, expect, it } from 'vitest';
import { stateSchema } from '../../src/state/config.ts';
import { resolveStateConfig } from '../../src/scale/state-backend.ts';

describe('state settings', () => {
  it('defaults to the embedded file store, with lease defaults for when postgres is chosen', () => {
    expect(stateSchema.parse({})).toEqual({ kind: 'file', path: './state', schema: 'auditrelay', leaseTtl: 15_000, leaseRenewInterval: 5_000 });
  });

  it('takes postgres from the config file, with durations', () => {
    const s = stateSchema.parse({ kind: 'postgres', url: 'postgres://relay@db:5432/audit', schema: 'relay_prod', leaseTtl: '30s', leaseRenewInterval: '10s' });
    expect(s).toMatchObject({ kind: 'postgres', url: 'postgres://relay@db:5432/audit', schema: 'relay_prod', leaseTtl: 30_000, leaseRenewInterval: 10_000 });
  });

  it('refuses a renewal interval above half the lease TTL, and schema names needing quotes', () => {
    expect(stateSchema.safeParse({ kind: 'postgres', leaseTtl: '10s', leaseRenewInterval: '6s' }).success).toBe(false);
    expect(stateSchema.safeParse({ kind: 'postgres', schema: 'Audit-Relay' }).success).toBe(false);
  });

  it('AUDITRELAY_STATE_URL selects postgres whatever the file says', () => {
    const file = stateSchema.parse({});
    expect(resolveStateConfig(file, {})).toBe(file);
    expect(resolveStateConfig(file, { AUDITRELAY_STATE_URL: 'postgresql://relay@db/audit' })).toMatchObject({ kind: 'postgres', url: 'postgresql://relay@db/audit' });
    expect(() => resolveStateConfig(file, { AUDITRELAY_STATE_URL: 'mysql://db' })).toThrow(/postgres:\/\//);
  });
});
