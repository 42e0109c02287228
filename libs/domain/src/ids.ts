/** A UUID as Postgres accepts it, any case: checked before a value reaches a uuid parameter (else a 500). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
