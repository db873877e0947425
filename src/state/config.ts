import { z } from 'zod';
import { duration } from '../config-kit/fields.ts';

/** `state` in the config file: where stream state lives (embedded files, or postgres for replicas). Every default is here, once. */
export const stateSchema = z
  .object({
    kind: z
      .enum(['file', 'postgres'])
      .default('file')
      .describe('file: embedded store, one daemon; postgres: shared by N replicas (AUDITRELAY_STATE_URL=postgres://... selects it too)'),
    path: z.string().default('./state').describe('Folder for the embedded store (relative to the config file); with postgres, only the default dead-letter file goes here'),
    url: z
      .string()
      .optional()
      .describe('postgres://user@host:5432/database (password via an env reference or PGPASSWORD). PG* variables fill in what it leaves out; AUDITRELAY_STATE_URL overrides it'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case identifier (a-z, 0-9, _)')
      .default('auditrelay')
      .describe('PostgreSQL schema for the tables (created and migrated by the daemon)'),
    replicaId: z.string().min(1).optional().describe('This replica\'s name in leases and logs (default: host name, pid and a random suffix)'),
    leaseTtl: duration('15s').default(15_000).describe('postgres: a replica that has not renewed its stream leases for this long loses them to the others'),
    leaseRenewInterval: duration('5s').default(5_000).describe('postgres: how often leases are renewed and streams rebalanced (at most half of leaseTtl)'),
  })
  .strict()
  .refine((s) => s.leaseRenewInterval * 2 <= s.leaseTtl, { path: ['leaseRenewInterval'], message: 'must be at most half of leaseTtl' });

export type StateConfig = z.infer<typeof stateSchema>;
