// pg-copy-streams ships no types; only COPY ... FROM STDIN is used here.
declare module 'pg-copy-streams' {
  import type { Writable } from 'node:stream';

  /** A pg Submittable that is also a Writable: what is written goes to COPY ... FROM STDIN. */
  export interface CopyStreamQuery extends Writable {
    rowCount: number;
  }
  export function from(sql: string): CopyStreamQuery;
}
