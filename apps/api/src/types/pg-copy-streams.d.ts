// pg-copy-streams ships no types; these are the two COPY directions used here.
declare module 'pg-copy-streams' {
  import type { Readable, Writable } from 'node:stream';

  /** A pg Submittable that is also a Writable: what is written goes to COPY ... FROM STDIN. */
  export interface CopyStreamQuery extends Writable {
    rowCount: number;
  }
  export function from(sql: string): CopyStreamQuery;

  /** A pg Submittable that is also a Readable: the bytes of COPY ... TO STDOUT. */
  export interface CopyToStreamQuery extends Readable {
    rowCount: number;
  }
  export function to(sql: string): CopyToStreamQuery;
}
