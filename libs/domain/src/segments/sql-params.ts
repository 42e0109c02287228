/**
 * Collects bind values and hands out their `$n` placeholders, so values never enter SQL text.
 * Start after the caller's own parameters: `new SqlParams(2)` when `$1` is the tenant id.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** @param first the number of the first placeholder handed out */
  constructor(private readonly first = 1) {
    if (!Number.isInteger(first) || first < 1) throw new RangeError(`first placeholder must be a positive integer, got ${first}`);
  }

  /** Binds a value and returns its placeholder, e.g. `$3`. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.first + this.values.length - 1}`;
  }

  /** The placeholder number the next `add` will return. */
  get next(): number {
    return this.first + this.values.length;
  }
}
