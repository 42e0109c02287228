import { defineErrors } from '../../common/errors.catalog';

export const SEGMENTS_ERRORS = defineErrors({
  SEGMENT_NAME_TAKEN: { status: 409, message: 'A segment with this name already exists.' },
  SEGMENT_TOO_EXPENSIVE: {
    status: 422,
    message: 'This rule would cost the database too much to evaluate: use fewer text searches (contains) or narrow it with tags first.',
  },
  SEGMENT_IN_USE: { status: 409, message: 'SOPs use this segment: change or archive them first.' },
});
