import { CONTENT_TYPES, type ContentType } from '../config.ts';
import { Random } from './random.ts';
import { generateRecord, type O365Record, recordId } from './records.ts';

/**
 * The content blobs the emulated tenant has produced. Only metadata is held (about a hundred bytes a
 * blob); a blob's records are regenerated from its sequence number on every GET, so a backlog of a
 * million records costs little memory.
 *
 * Behaviours from docs/api-notes.md (#o365-content-items, #o365-blobs): blobs of 1..N records with some large ones; the same record `Id` in
 * two blobs; events inside a blob unordered and older than the blob; blobs that first appear in
 * listings after their `contentCreated` (late); `contentExpiration` = created + 7 days.
 */
export const RETENTION_MS = 7 * 86_400_000;

export interface CatalogueSettings {
  seed: number;
  tenantId: string;
  /** Live production: one blob every `blobIntervalMs`, content types in turn. */
  blobIntervalMs: number;
  /** Share of blobs that appear in listings after their contentCreated. */
  lateRate: number;
  /** How late a late blob is at most. */
  maxLatenessMs: number;
  /** Ordinary blobs hold 1..maxRecordsPerBlob records. */
  maxRecordsPerBlob: number;
  /** Share of blobs holding largeBlobRecords[0]..[1] records. */
  largeBlobRate: number;
  largeBlobRecords: [number, number];
  /** Share of blobs that repeat a few records of an earlier blob of the same content type. */
  duplicateRate: number;
  /** Events happened up to this long before their blob was created. */
  maxEventAgeMs: number;
  /** Backlog already available at start (clamped to 7 days minus 1 hour, so nothing expires at once). */
  backlogMs: number;
  /** Approximate number of records in the backlog; default: one blob per `backlogSpacingMs`. */
  backlogRecords?: number;
  backlogSpacingMs: number;
}

export interface BlobDescriptor {
  seq: number;
  contentType: ContentType;
  contentId: string;
  /** contentCreated: what listings filter on. */
  createdMs: number;
  /** When the blob first shows in listings (>= createdMs for a late blob). */
  visibleMs: number;
  expiresMs: number;
  /** Records written to this blob first. */
  ownRecords: number;
  /** Records repeated from an earlier blob (the duplicate-by-design case). */
  repeats?: { seq: number; count: number };
}

export class ContentCatalogue {
  readonly #settings: CatalogueSettings;
  readonly #blobs: BlobDescriptor[] = [];
  readonly #byContentType = new Map<ContentType, BlobDescriptor[]>(CONTENT_TYPES.map((ct) => [ct, []]));
  readonly #byId = new Map<string, BlobDescriptor>();
  #turn = 0;

  constructor(settings: CatalogueSettings) {
    this.#settings = settings;
  }

  get size(): number {
    return this.#blobs.length;
  }

  /** Creates the backlog: blobs spread evenly over the window before `nowMs`. */
  prefill(nowMs: number): void {
    const s = this.#settings;
    const windowMs = Math.min(s.backlogMs, RETENTION_MS - 3_600_000);
    if (windowMs <= 0) return;
    const count = s.backlogRecords !== undefined ? Math.ceil(s.backlogRecords / this.meanRecordsPerBlob()) : Math.ceil(windowMs / s.backlogSpacingMs);
    const spacing = windowMs / Math.max(count, 1);
    for (let i = 0; i < count; i++) {
      const jitter = new Random(`${s.seed}:backlog:${i}`).next();
      this.#add(this.#nextContentType(), Math.floor(nowMs - windowMs + (i + jitter) * spacing));
    }
  }

  /** One new blob, created now, for the next content type in turn (or the given one). */
  produce(nowMs: number, contentType?: ContentType): BlobDescriptor {
    return this.#add(contentType ?? this.#nextContentType(), nowMs);
  }

  /** The content type the next `produce()` without one would use (to skip stopped subscriptions). */
  peekContentType(): ContentType {
    return CONTENT_TYPES[this.#turn % CONTENT_TYPES.length] as ContentType;
  }

  skipTurn(): void {
    this.#turn++;
  }

  /** Blobs a listing shows now: `start <= contentCreated < end`, already visible, oldest first. */
  list(contentType: ContentType, startMs: number, endMs: number, nowMs: number): BlobDescriptor[] {
    const all = this.#byContentType.get(contentType) ?? [];
    return all.filter((b) => b.createdMs >= startMs && b.createdMs < endMs && b.visibleMs <= nowMs).sort(byCreated);
  }

  find(contentId: string): BlobDescriptor | undefined {
    return this.#byId.get(contentId);
  }

  /** A blob's records, regenerated; events unordered as in the real feed. */
  records(blob: BlobDescriptor): O365Record[] {
    const s = this.#settings;
    const records: O365Record[] = [];
    const make = (source: BlobDescriptor, index: number) =>
      generateRecord({ seed: s.seed, blobSeq: source.seq, index, tenantId: s.tenantId, contentType: source.contentType, createdMs: source.createdMs, maxEventAgeMs: s.maxEventAgeMs });
    for (let i = 0; i < blob.ownRecords; i++) records.push(make(blob, i));
    if (blob.repeats) {
      const source = this.#blobs[blob.repeats.seq] as BlobDescriptor;
      for (let i = 0; i < blob.repeats.count; i++) records.push(make(source, i));
    }
    return new Random(`${s.seed}:order:${blob.seq}`).shuffle(records);
  }

  /** Ids of every record in a blob visible at `nowMs` (repeats included: the registry dedups). */
  *visibleRecordIds(nowMs: number): Generator<string> {
    const seed = this.#settings.seed;
    for (const blob of this.#blobs) {
      if (blob.visibleMs > nowMs) continue;
      for (let i = 0; i < blob.ownRecords; i++) yield recordId({ seed, blobSeq: blob.seq, index: i });
      if (blob.repeats) for (let i = 0; i < blob.repeats.count; i++) yield recordId({ seed, blobSeq: blob.repeats.seq, index: i });
    }
  }

  meanRecordsPerBlob(): number {
    const s = this.#settings;
    const ordinary = (1 + s.maxRecordsPerBlob) / 2;
    const large = (s.largeBlobRecords[0] + s.largeBlobRecords[1]) / 2;
    return (1 - s.largeBlobRate) * ordinary + s.largeBlobRate * large;
  }

  #nextContentType(): ContentType {
    const ct = this.peekContentType();
    this.#turn++;
    return ct;
  }

  #add(contentType: ContentType, createdMs: number): BlobDescriptor {
    const s = this.#settings;
    const seq = this.#blobs.length;
    const rnd = new Random(`${s.seed}:blob:${seq}`);
    const large = rnd.chance(s.largeBlobRate);
    const ownRecords = large ? rnd.int(s.largeBlobRecords[0], s.largeBlobRecords[1]) : rnd.int(1, s.maxRecordsPerBlob);
    const late = rnd.chance(s.lateRate);
    const visibleMs = late ? createdMs + rnd.int(Math.min(5000, s.maxLatenessMs), s.maxLatenessMs) : createdMs;
    const sameType = this.#byContentType.get(contentType) as BlobDescriptor[];
    let repeats: BlobDescriptor['repeats'];
    if (sameType.length > 0 && rnd.chance(s.duplicateRate)) {
      const source = sameType[sameType.length - 1 - rnd.int(0, Math.min(20, sameType.length) - 1)] as BlobDescriptor;
      repeats = { seq: source.seq, count: rnd.int(1, Math.min(5, source.ownRecords)) };
    }
    const blob: BlobDescriptor = {
      seq,
      contentType,
      contentId: contentIdFor(createdMs, seq, contentType),
      createdMs,
      visibleMs,
      expiresMs: createdMs + RETENTION_MS,
      ownRecords,
      ...(repeats ? { repeats } : {}),
    };
    this.#blobs.push(blob);
    sameType.push(blob);
    this.#byId.set(blob.contentId, blob);
    return blob;
  }
}

function byCreated(a: BlobDescriptor, b: BlobDescriptor): number {
  return a.createdMs - b.createdMs || a.seq - b.seq;
}

/**
 * Shaped like the real ids (`20171014180051748005825$20171014180051748005825$audit_sharepoint$Audit_SharePoint$na0012`):
 * a 17-digit UTC stamp plus a 6-digit sequence, twice, then the content type in two spellings and a region.
 */
export function contentIdFor(createdMs: number, seq: number, contentType: ContentType): string {
  const stamp = new Date(createdMs).toISOString().replace(/[-:TZ.]/g, '') + String(seq % 1_000_000).padStart(6, '0');
  const lower = contentType.toLowerCase().replace('.', '_');
  return `${stamp}$${stamp}$${lower}$${contentType.replace('.', '_')}$na00${String(seq % 97).padStart(2, '0')}`;
}

/** The shape a contentId must have; anything else answers AF20052 rather than AF20050. */
export const CONTENT_ID_SHAPE = /^\d{23}\$\d{23}\$[a-z_]+\$[A-Za-z_]+\$[a-z]{2,4}\d{4}$/;
