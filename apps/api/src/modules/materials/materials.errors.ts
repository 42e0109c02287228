import { defineErrors } from '../../common/errors.catalog';

export const MATERIALS_ERRORS = defineErrors({
  MATERIAL_NOT_FOUND: { status: [404, 422], message: 'No material with this id in the library.' },
  MATERIAL_IN_USE: { status: 409, message: 'SOPs that are not archived pick this material: take it out of their steps first.' },
  MATERIAL_ID_REUSED: { status: 409, message: 'This material id (or Idempotency-Key) was already used for a different material.' },
});
