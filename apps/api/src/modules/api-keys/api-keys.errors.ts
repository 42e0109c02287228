import { defineErrors } from '../../common/errors.catalog';

/** The signature of requests made with an API key's signing secret (POST /api/events). */
export const API_KEYS_ERRORS = defineErrors({
  SIGNATURE_MISSING: { status: 401, message: 'Send X-Sop-Timestamp and X-Sop-Signature (see docs/responses.md).' },
  SIGNATURE_STALE: { status: 401, message: 'X-Sop-Timestamp must be the current Unix time in seconds, within 5 minutes.' },
  SIGNATURE_INVALID: { status: 401, message: "X-Sop-Signature does not match the body and timestamp under this key's signing secret." },
  SIGNING_KEY_RETIRED: {
    status: 401,
    message: "This API key's signing secret derives from a server key that is no longer configured; rotate it (POST /api/api-keys/{id}/signing-secret) and sign with the new one.",
  },
  API_KEY_REVOKED: { status: 409, message: 'This API key is revoked; create a new one.' },
});
