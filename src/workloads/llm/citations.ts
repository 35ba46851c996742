/**
 * Removes citations to sources that were not provided ([7] when only [1]–[4] exist) from streamed text.
 * Tokens split citations arbitrarily ("[1" + "2]"), so a possible citation at the end of a chunk is held back
 * until the next chunk decides it; anything that cannot become a citation passes through at once.
 */
const CITATION = /\[(\d{1,3})\]/g;
/** A possibly-unfinished citation at the end of the buffer: "[", "[1", "[12". */
const PARTIAL = /\[\d{0,3}$/;

export class CitationFilter {
  private pending = "";
  private readonly allowed: ReadonlySet<number>;
  readonly cited = new Set<number>();

  constructor(allowed: Iterable<number>) {
    this.allowed = new Set(allowed);
  }

  push(text: string): string {
    const buffer = this.pending + text;
    const partial = PARTIAL.exec(buffer);
    const ready = partial ? buffer.slice(0, partial.index) : buffer;
    this.pending = partial ? buffer.slice(partial.index) : "";
    return this.clean(ready);
  }

  flush(): string {
    const rest = this.clean(this.pending);
    this.pending = "";
    return rest;
  }

  private clean(text: string): string {
    return text.replace(CITATION, (whole, digits: string) => {
      const n = Number(digits);
      if (!this.allowed.has(n)) return "";
      this.cited.add(n);
      return whole;
    });
  }
}

/** Whole-text form, for non-streamed answers (the model function, tests). */
export function filterCitations(text: string, allowed: Iterable<number>): { text: string; cited: number[] } {
  const filter = new CitationFilter(allowed);
  const out = filter.push(text) + filter.flush();
  return { text: out, cited: [...filter.cited].sort((a, b) => a - b) };
}
