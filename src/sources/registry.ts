import { google } from './google/index.ts';
import { o365 } from './o365/index.ts';

/**
 * Every source the daemon knows, in the order doctor checks them and banners list them. The key is
 * the source's kind (its config key under `sources:`, the first part of its stream ids). A source
 * is its folder; the rest of the daemon reaches it only through the entry it exports (`entry.ts`).
 */
export const REGISTRY = { o365, google } as const;
