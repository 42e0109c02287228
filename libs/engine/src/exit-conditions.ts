/**
 * SQL: whether the SOP version aliased `version` has exit conditions, the test the outbox trigger that queues exit
 * checks uses (migration `ExitChecks`). Writers that queue checks themselves (a hand-over, a reopening) use it too.
 */
export const hasExitConditions = (version: string): string =>
  `jsonb_array_length(coalesce(${version}.definition->'policies'->'exitOn', '[]'::jsonb)) > 0`;
