import { defineErrors } from '../../common/errors.catalog';

export const SOPS_ERRORS = defineErrors({
  SOP_NAME_TAKEN: { status: 409, message: 'An SOP with this name already exists.' },
  SOP_ARCHIVED: { status: 409, message: 'An archived SOP cannot change; copy it into a new SOP.' },
  SOP_PAUSED: { status: 409, message: 'This SOP is paused: resume it instead.' },
  SOP_PUBLISHED: { status: 409, message: 'A published SOP keeps its history: archive it instead.' },
  SOP_STATUS_CONFLICT: { status: 409, message: 'The SOP cannot make this change from its current status.' },
  SOP_NOT_MIGRATABLE: { status: 409, message: 'Only the enrollments of a published, not archived journey can move to its current version.' },
  SOP_IN_USE: { status: 409, message: 'Response rules use this SOP: change them first.' },
  BROADCAST_PUBLISHED: { status: 409, message: 'A broadcast cannot change once activated: archive it and create a new one.' },
  SOP_INVALID: { status: 422, message: 'The SOP definition has problems; details name each one by JSON path.' },
});
