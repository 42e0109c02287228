/**
 * The manager rule, in one place: a manager acts for the teams whose `manager_id` they are, and for the members of
 * those teams, in their own organization. The API's access module (apps/api/src/common/access) asks through these
 * for a caller; the engine's set-based statements (overdue escalation, the manager's digest) join the same
 * relation for every team at once. Each helper takes SQL expressions (usually parameter references such as `$1`, or
 * columns of the caller's query), so the rule goes inside one statement.
 */

/** SQL condition: the team row `alias` is one that `manager` manages in organization `tenant`. */
export const teamManagedWhere = (alias: string, tenant: string, manager: string) =>
  `(${alias}.tenant_id = ${tenant} AND ${alias}.manager_id = ${manager})`;

/** SQL: a text[] of the ids of the teams `manager` manages in organization `tenant`, ordered by team name. */
export const managedTeamIdsArraySql = (tenant: string, manager: string) =>
  `ARRAY(SELECT tm.id::text FROM teams tm WHERE ${teamManagedWhere('tm', tenant, manager)} ORDER BY tm.name, tm.id)`;

/**
 * SQL: the (tenant_id, manager_id, user_id) of every user in a managed team: whom each manager acts for. Joined by
 * `user_id` it names a user's managers; filtered by `manager_id`, a manager's people.
 */
export const MANAGED_PAIRS_SQL =
  `SELECT tm.tenant_id, tm.manager_id, u.id AS user_id FROM teams tm JOIN users u ON u.tenant_id = tm.tenant_id AND u.team_id = tm.id
    WHERE tm.manager_id IS NOT NULL`;

/** SQL: the ids (`id`) of the users in the teams `manager` manages, in organization `tenant`. */
export const managedUsersSql = (tenant: string, manager: string) =>
  `SELECT mp.user_id AS id FROM (${MANAGED_PAIRS_SQL}) mp WHERE mp.tenant_id = ${tenant} AND mp.manager_id = ${manager}`;

/**
 * SQL boolean: whether the team in column `teamColumn` is managed by `manager`. No tenant condition is needed:
 * the composite foreign keys keep a user's team in the user's organization.
 */
export const teamManagedBySql = (teamColumn: string, manager: string) =>
  `EXISTS (SELECT 1 FROM teams tm WHERE tm.id = ${teamColumn} AND tm.manager_id = ${manager})`;
