/**
 * Which customer groups a SOP's group audience (`audience: { groups: { ownerUserIds?, ownerTeamIds? } }`) reaches,
 * in one place: dispatch (sop-occurrence.ts), the forecast and the SOP list's audience size (the API's SOP
 * repository) all go through this condition, so the three cannot count different groups.
 *
 * A list that is absent (or null) names nobody; when both are absent the audience is **every group** of the
 * organization (the built-in group templates save `{ groups: {} }`). A list that is present but empty names nobody
 * of its kind: `{ ownerUserIds: [] }` reaches no group.
 */

/**
 * SQL condition: the customer group `g`, whose owner's row is `u` (`LEFT JOIN users u ON u.id = g.owner_id`), is in
 * the audience naming owners `userIds` and teams `teamIds` (SQL expressions of type uuid[], null when not named).
 */
export const groupInAudienceSql = (g: string, u: string, userIds: string, teamIds: string) =>
  `((${userIds} IS NULL AND ${teamIds} IS NULL) OR ${g}.owner_id = ANY(${userIds}) OR ${u}.team_id = ANY(${teamIds}))`;

/**
 * SQL: one id list of a group audience read from a SOP definition (a jsonb expression) as uuid[]; null when the
 * definition does not have it as an array, as a definition read in TypeScript gives `ownerUserIds ?? null`.
 */
export const audienceIdsSql = (definition: string, key: 'ownerUserIds' | 'ownerTeamIds') => {
  const list = `${definition} -> 'audience' -> 'groups' -> '${key}'`;
  return `(CASE WHEN jsonb_typeof(${list}) = 'array' THEN ARRAY(SELECT x.id::uuid FROM jsonb_array_elements_text(${list}) AS x(id)) END)`;
};

/** SQL condition: the group `g` (owner `u`) is in the group audience of the SOP definition `definition` (jsonb). */
export const groupInDefinitionAudienceSql = (g: string, u: string, definition: string) =>
  groupInAudienceSql(g, u, audienceIdsSql(definition, 'ownerUserIds'), audienceIdsSql(definition, 'ownerTeamIds'));
