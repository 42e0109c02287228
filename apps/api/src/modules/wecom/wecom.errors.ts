import { defineErrors } from '../../common/errors.catalog';

/** The WeCom connection (admin) and WeCom's callbacks. */
export const WECOM_ERRORS = defineErrors({
  WECOM_NOT_CONNECTED: { status: 404, message: 'This organization has not connected a WeCom corporation.' },
  WECOM_CHECK_FAILED: { status: 422, message: 'WeCom refused the connection details; details name the field it refused.' },
  WECOM_UNREACHABLE: { status: 503, message: 'WeCom could not be reached to check the connection; nothing was changed. Try again shortly.' },
  WECOM_CALLBACK_NOT_FOUND: { status: 404, message: 'No WeCom connection answers at this callback address.' },
  WECOM_SIGNATURE_INVALID: { status: 401, message: 'msg_signature does not match the token, timestamp, nonce and ciphertext.' },
  WECOM_TIMESTAMP_STALE: { status: 401, message: 'The callback timestamp is more than 5 minutes from the server clock.' },
  WECOM_MEMBER_NOT_FOUND: { status: 404, message: 'No member of the connected WeCom corporation with this user id (as of the last sync).' },
  WECOM_USER_NOT_FOUND: { status: 422, message: 'The user to match must be an active user of your organization.' },
  WECOM_SECRETS_UNREADABLE: { status: 503, message: 'The connection\'s secrets were sealed with a key no longer in WECOM_SECRET_KEYS; an admin must enter them again.' },
  WECOM_CONTACT_WAY_REFUSED: { status: 422, message: 'WeCom refused the contact way (QR code); details name the field.' },
  WECOM_QR_NOT_FOUND: { status: 404, message: 'This channel code has no WeCom "contact me" QR code.' },
  WECOM_QR_UNAVAILABLE: { status: 503, message: 'WeCom\'s image host did not give the QR image (no answer, an error, or not an image). Try again shortly.' },
  WECOM_TAG_GROUP_EMPTY: { status: 422, message: 'WeCom creates a corp tag group with at least one tag: add a tag to the group first.' },
  WECOM_OAUTH_UNCONFIGURED: { status: 503, message: 'Sign-in inside WeCom needs the app\'s public address (APP_URL) set on the API.' },
  WECOM_PAYLOAD_INVALID: { status: 400, message: 'The callback body is not WeCom\'s encrypted XML for this corporation.' },
});
