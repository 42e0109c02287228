/** Collects bind values and hands out their `$n` placeholders: values never enter SQL text. */
export class SqlParams {
  readonly values: unknown[] = [];

  /** @param first the number of the first placeholder, after the caller's own parameters */
  constructor(private readonly first = 1) {}

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.first + this.values.length - 1}`;
  }
}
