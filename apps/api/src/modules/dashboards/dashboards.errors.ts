import { defineErrors } from '../../common/errors.catalog';

/** Dashboards and SOP results. */
export const DASHBOARDS_ERRORS = defineErrors({
  ROLLUP_REBUILD_BUSY: { status: 409, message: 'Tasks are being written right now, so the dashboard figures cannot be rebuilt for the new zone or window; nothing was changed. Try again in a moment.' },
  DASHBOARD_RANGE_INVALID: { status: 422, message: 'The date range must end on or after its start and span at most 366 days.' },
  DASHBOARD_NEEDS_A_USER: { status: 403, message: 'This dashboard belongs to a person: an API key with this role has none.' },
  TEAM_NOT_MANAGED: { status: 403, message: 'Managers see only the teams they manage.' },
  CUT_NOT_ALLOWED: { status: 403, message: 'Managers cut their teams by team, employee, day or week; SOP results are for ops and admins.' },
  CUT_FILTER_INVALID: { status: 422, message: 'Team cuts (team, employee) take a team filter, SOP cuts (SOP, version, step, variant, channel) a SOP filter, not the other.' },
  STEP_NOT_FOUND: { status: 404, message: 'This SOP has no step with this index.' },
  STEP_HAS_NO_VARIANTS: { status: 409, message: 'This step has no variants to choose from.' },
  VARIANT_NOT_FOUND: { status: 422, message: 'This step has no variant with this name.' },
});
