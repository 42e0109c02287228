import { defineErrors } from '../../common/errors.catalog';

export const TEAMS_ERRORS = defineErrors({
  TEAM_NAME_TAKEN: { status: 409, message: 'A team with this name already exists.' },
  MANAGER_NOT_FOUND: { status: 422, message: 'The manager must be an active manager or admin of your organization.' },
});
