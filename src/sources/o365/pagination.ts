/**
 * Guards for following NextPageUri: a repeated URI or an absurd number of pages means the API is
 * looping; stop and retry the window later instead of paging forever. Pure.
 */
export const MAX_PAGES_PER_WINDOW = 10_000;

export class PageGuard {
  readonly #seen = new Set<string>();
  check(next: string): string | undefined {
    if (this.#seen.has(next)) return `NextPageUri repeated (${next.slice(0, 120)})`;
    this.#seen.add(next);
    if (this.#seen.size > MAX_PAGES_PER_WINDOW) return `more than ${MAX_PAGES_PER_WINDOW} pages in one window`;
    return undefined;
  }
}
