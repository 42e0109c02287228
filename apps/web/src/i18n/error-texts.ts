/**
 * What the console shows for each error code the API answers, in Simplified Chinese and English.
 *
 * Keys are the API's error codes: the `code` of every error answer, the `ErrorCode` enum of /docs-json
 * (its `x-error-catalog` has each code's statuses and English meaning). The API's tests fail when a code
 * of its catalog has no text here, or a code here is not in the catalog. Plain text, no placeholders:
 * show the answer's `details` (JSON path and problem per field) next to the fields they name.
 * This file imports nothing: the console (a separate Vite app) imports it as it is.
 */
export const ERROR_TEXTS: Record<string, { zh: string; en: string }> = {
  // request and connection
  BAD_REQUEST: { zh: '请求无法识别，请检查后重试。', en: 'The request could not be understood. Check it and try again.' },
  VALIDATION_FAILED: { zh: '部分内容填写有误，请按提示修改。', en: 'Some fields are missing or invalid. Fix the highlighted fields.' },
  MALFORMED_BODY: {
    zh: '请求内容无法读取：它与声明的压缩格式（Content-Encoding）不符。',
    en: 'The request body could not be read: it does not match its Content-Encoding.',
  },
  MALFORMED_JSON: { zh: '请求内容不是有效的 JSON，请检查格式。', en: 'The request body is not valid JSON. Check its format.' },
  PAYLOAD_TOO_LARGE: { zh: '提交的内容太大（上限 1 MB），请分批提交。', en: 'The request is too large (1 MB at most). Send it in smaller parts.' },
  UNSUPPORTED_MEDIA_TYPE: {
    zh: '不支持这种内容格式；导入客户请上传 CSV 文件。',
    en: 'This content type is not supported. To import customers, upload a CSV file.',
  },
  UNSUPPORTED_ENCODING: { zh: '不支持该编码，请使用 UTF-8 编码后重试。', en: 'This encoding is not supported. Use UTF-8 and try again.' },
  ROUTE_NOT_FOUND: { zh: '请求的接口不存在，请检查地址。', en: 'This endpoint does not exist. Check the address.' },
  METHOD_NOT_ALLOWED: { zh: '该接口不支持这种请求方式。', en: 'This endpoint does not support this method.' },
  RATE_LIMITED: { zh: '尝试次数过多，请一分钟后再试。', en: 'Too many attempts. Wait a minute and try again.' },
  INTERNAL: {
    zh: '系统出错了，请稍后重试。如果问题持续，请把请求编号（Request ID）发给技术支持。',
    en: 'Something went wrong on our side. Try again later; if it keeps happening, send the request ID to support.',
  },
  TEMPORAL_UNAVAILABLE: {
    zh: '任务调度服务暂时不可用，本次操作未生效，请稍后重试。',
    en: 'The scheduling service is unavailable right now. Nothing was changed; try again shortly.',
  },
  DATABASE_BUSY: {
    zh: '系统正忙，请稍后再试一次。',
    en: 'The system is busy right now. Try again in a moment.',
  },

  // login and permissions
  UNAUTHENTICATED: { zh: '登录已失效或尚未登录，请重新登录。', en: 'You are not logged in or your session has expired. Log in again.' },
  INVALID_CREDENTIALS: { zh: '邮箱或密码错误。', en: 'Wrong email or password.' },
  EMAIL_TAKEN: { zh: '该邮箱已注册，请直接登录或换一个邮箱。', en: 'This email is already registered. Log in, or use another email.' },
  ROLE_FORBIDDEN: { zh: '你的角色没有此操作权限，如需开通请联系管理员。', en: 'Your role does not allow this. Ask an admin if you need access.' },
  FORBIDDEN: { zh: '没有权限执行此操作。', en: 'You are not allowed to do this.' },
  CANNOT_DEMOTE_SELF: {
    zh: '不能停用自己的账号，也不能取消自己的管理员角色，请联系其他管理员操作。',
    en: 'You cannot disable your own account or remove your own admin role. Ask another admin.',
  },

  // organization: users, teams, API keys
  USER_NOT_FOUND: { zh: '员工账号不存在，请刷新后重试。', en: 'This user does not exist. Refresh and try again.' },
  TEAM_NOT_FOUND: { zh: '团队不存在或已被删除，请刷新后重试。', en: 'This team does not exist or was deleted. Refresh and try again.' },
  TEAM_NAME_TAKEN: { zh: '已有同名团队，请换一个名称。', en: 'A team with this name already exists. Choose another name.' },
  MANAGER_NOT_FOUND: {
    zh: '团队负责人必须是本组织在职的主管或管理员，请重新选择。',
    en: 'The team manager must be an active manager or admin of your organization. Choose someone else.',
  },
  OWNER_NOT_FOUND: {
    zh: '负责人必须是本组织在职的员工，请重新选择。',
    en: 'The owner must be an active user of your organization. Choose someone else.',
  },
  API_KEY_NOT_FOUND: { zh: '未找到该 API 密钥，请刷新列表后重试。', en: 'This API key was not found. Refresh the list and try again.' },
  ROUND_TRIP_NOT_FOUND: { zh: '诊断记录不存在。', en: 'This diagnostic run does not exist.' },

  // customers, groups, tags
  CONTACT_NOT_FOUND: { zh: '客户不存在或已被删除，请刷新后重试。', en: 'This customer does not exist or was deleted. Refresh and try again.' },
  CONTACT_EXISTS: {
    zh: '已有相同外部 ID 的客户，请直接编辑该客户，或换一个外部 ID。',
    en: 'A customer with this external ID already exists. Edit that customer or use another external ID.',
  },
  GROUP_NOT_FOUND: { zh: '客户群不存在或已被删除，请刷新后重试。', en: 'This customer group does not exist or was deleted. Refresh and try again.' },
  TAG_NOT_FOUND: { zh: '标签不存在或已被删除，请刷新后重试。', en: 'This tag does not exist or was deleted. Refresh and try again.' },
  TAG_GROUP_NOT_FOUND: { zh: '标签组不存在或已被删除，请刷新后重试。', en: 'This tag group does not exist or was deleted. Refresh and try again.' },
  TAG_NAME_TAKEN: { zh: '该标签组里已有同名标签，请换一个名称。', en: 'This tag group already has a tag with this name. Choose another name.' },
  TAG_GROUP_NAME_TAKEN: { zh: '已有同名的标签组，请换一个名称。', en: 'A tag group with this name already exists. Choose another name.' },
  TAG_IN_USE: {
    zh: '该标签正被客户分群、渠道码、规则、SOP 或素材使用，请先修改它们再删除。',
    en: 'Segments, channel codes, rules, SOPs or materials use this tag. Change them before deleting it.',
  },
  TAG_CHANGE_INVALID: {
    zh: '部分标签无法按要求修改（标签不存在、同时添加和移除，或在互斥组里选了多个），请按提示修改。',
    en: 'Some tags cannot be changed as asked (unknown tag, both added and removed, or two tags of one exclusive group). Fix the highlighted ones.',
  },
  GROUP_NOT_EXCLUSIVE: {
    zh: '部分客户同时带有该组的多个标签，暂时不能设为互斥。请先去掉多余的标签再设置。',
    en: 'Some customers have more than one tag of this group, so it cannot be made exclusive yet. Remove the extra tags first.',
  },
  GROUP_HAS_RULE: { zh: '该标签组已有一条计算规则，请直接修改那条规则。', en: 'This tag group already has a computed rule. Edit that rule instead.' },
  COMPUTED_TAG_RULE_NOT_FOUND: {
    zh: '计算标签规则不存在或已被删除，请刷新后重试。',
    en: 'This computed tag rule does not exist or was deleted. Refresh and try again.',
  },
  SOURCE_CODE_NOT_FOUND: { zh: '渠道码不存在，请检查渠道码是否正确。', en: 'This channel code does not exist. Check the code.' },
  SOURCE_CODE_TAKEN: { zh: '该渠道码已被使用，请换一个。', en: 'This channel code is already in use. Choose another one.' },
  IMPORT_NOT_FOUND: { zh: '导入记录不存在，请重新导入。', en: 'This import does not exist. Start the import again.' },
  IMPORT_ID_TAKEN: { zh: '这个导入编号已被使用，请重新选择文件导入。', en: 'This import id is taken: choose the file again to start a new import.' },
  CSV_COLUMNS_INVALID: {
    zh: 'CSV 表头有误：有未知、重复或缺少的列（必须有 external_id 列），或列数超过 150。请按模板修改后重新上传。',
    en: 'The CSV header has unknown, repeated or missing columns (external_id is required), or more than 150 columns. Fix it to match the template and upload again.',
  },

  // segments and SOPs
  SEGMENT_NOT_FOUND: { zh: '客户分群不存在或已被删除，请刷新后重试。', en: 'This segment does not exist or was deleted. Refresh and try again.' },
  SEGMENT_NAME_TAKEN: { zh: '已有同名的客户分群，请换一个名称。', en: 'A segment with this name already exists. Choose another name.' },
  SEGMENT_TOO_EXPENSIVE: {
    zh: '这个分群规则计算量太大：请减少“包含”文本条件，或先用标签缩小范围。',
    en: 'This rule costs too much to evaluate. Use fewer "contains" conditions, or narrow it with tags first.',
  },
  SEGMENT_IN_USE: { zh: '该客户分群正被 SOP 使用，请先修改或归档相关 SOP。', en: 'SOPs use this segment. Change or archive them first.' },
  SOP_NOT_FOUND: { zh: 'SOP 不存在或已被删除，请刷新后重试。', en: 'This SOP does not exist or was deleted. Refresh and try again.' },
  SOP_VERSION_NOT_FOUND: { zh: '该 SOP 没有这个版本，请刷新后重试。', en: 'This SOP has no such version. Refresh and try again.' },
  SOP_INVALID: { zh: 'SOP 配置有误，请按提示修改标出的内容。', en: 'The SOP has errors. Fix the highlighted fields.' },
  SOP_NAME_TAKEN: { zh: '已有同名的 SOP，请换一个名称。', en: 'An SOP with this name already exists. Choose another name.' },
  SOP_ARCHIVED: {
    zh: '该 SOP 已归档，不能再修改或启用。如需继续使用，请复制为新的 SOP。',
    en: 'This SOP is archived and cannot be changed or activated. Copy it into a new SOP.',
  },
  SOP_PAUSED: { zh: '该 SOP 已暂停，请点击“恢复”而不是“启用”。', en: 'This SOP is paused. Resume it instead of activating it.' },
  SOP_PUBLISHED: {
    zh: '已发布过的 SOP 需要保留历史，不能删除，请改为归档。',
    en: 'A published SOP keeps its history and cannot be deleted. Archive it instead.',
  },
  SOP_STATUS_CONFLICT: {
    zh: 'SOP 当前状态不允许此操作，请刷新查看最新状态。',
    en: "The SOP's current status does not allow this. Refresh to see its latest status.",
  },
  SOP_NOT_MIGRATABLE: {
    zh: '只有已发布且未归档的旅程型 SOP，才能把进行中的客户迁移到当前版本。',
    en: 'Only a published, non-archived journey can move its open enrollments to the current version.',
  },
  MATERIAL_NOT_FOUND: { zh: '素材库中没有这个素材，可能已被删除，请刷新后重试。', en: 'This material is not in the library; it may have been removed. Refresh and try again.' },
  MATERIAL_IN_USE: { zh: '有未归档的 SOP 正在使用该素材，请先从它们的步骤中移除。', en: 'SOPs that are not archived use this material. Take it out of their steps first.' },
  MATERIAL_ID_REUSED: { zh: '这个素材编号（或幂等键）已用于另一个素材，请换一个。', en: 'This material id (or Idempotency-Key) was already used for another material. Use a new one.' },
  SOP_IN_USE: { zh: '该 SOP 正被响应规则引用，请先修改这些规则。', en: 'Response rules refer to this SOP. Change them first.' },
  BROADCAST_PUBLISHED: {
    zh: '群发类 SOP 启用后不能再修改。如需调整，请先归档（会取消剩余任务），再新建一个。',
    en: 'A broadcast cannot be changed once activated. Archive it (this cancels what is left) and create a new one.',
  },

  // tasks and the inbox
  TASK_NOT_FOUND: { zh: '任务不存在，或你没有查看权限。', en: 'This task does not exist, or you cannot see it.' },
  TASK_NOT_PENDING: {
    zh: '该任务已完成、跳过、过期或取消，不能再操作，请刷新列表。',
    en: 'This task is already done, skipped, expired or cancelled. Refresh the list.',
  },
  TASK_OUTSIDE_TEAM: { zh: '该任务或员工不在你负责的团队中。', en: 'This task or person is outside the teams you manage.' },
  NOT_YOUR_TASKS: { zh: '员工只能查看自己的任务。', en: 'Employees can only see their own tasks.' },
  INBOX_NEEDS_A_USER: {
    zh: '任务收件箱属于具体员工，请用个人账号登录；系统对接请使用管理员或运营角色的 API 密钥。',
    en: 'The inbox belongs to a person: log in with your own account. For integrations, use an API key with the admin or ops role.',
  },
  INVALID_OUTCOME: { zh: '请选择有效的跟进结果。', en: 'Choose a valid outcome.' },
  SNOOZE_IN_PAST: { zh: '稍后提醒的时间必须晚于现在。', en: 'Pick a snooze time in the future.' },
  EXECUTOR_NOT_FOUND: {
    zh: '所选同事不存在或已停用，请选择其他同事。',
    en: 'The chosen colleague does not exist or is disabled. Choose someone else.',
  },
  REASSIGN_NOT_ALLOWED: {
    zh: '只能把任务转给同团队的同事（主管可转给所管团队的成员）。',
    en: 'You can only hand tasks to teammates (managers: to members of the teams they manage).',
  },

  // handovers and leaves
  OUTSIDE_YOUR_TEAM: { zh: '你只能为自己负责的团队成员办理交接或请假。', en: 'You can only act for members of the teams you manage.' },
  HANDOVER_NOT_FOUND: { zh: '交接记录不存在。', en: 'This handover does not exist.' },
  HANDOVER_ID_REUSED: {
    zh: '该交接编号已用于另一次交接，请刷新页面后重新提交。',
    en: 'This handover ID was already used for a different handover. Reload the page and submit again.',
  },
  HANDOVER_ID_TAKEN: { zh: '交接编号已被占用，请刷新页面后重新提交。', en: 'This handover ID is already taken. Reload the page and submit again.' },
  SAME_USER: { zh: '不能交接给本人，请选择其他同事。', en: 'Work cannot go to the person handing it over. Choose another colleague.' },
  TARGET_DISABLED: { zh: '该员工账号已停用，不能接收工作，请选择其他同事。', en: 'This user is disabled and cannot take work. Choose someone else.' },
  TEAM_HAS_NO_ACTIVE_MEMBERS: {
    zh: '该团队没有可接收工作的在职成员，请选择其他团队或同事。',
    en: 'This team has no active member who could take the work. Choose another team or a colleague.',
  },
  LEAVE_NOT_FOUND: { zh: '请假记录不存在或已被删除。', en: 'This leave does not exist or was already deleted.' },
  LEAVE_ID_REUSED: {
    zh: '该请假编号已用于另一条请假记录，请刷新页面后重新提交。',
    en: 'This leave ID was already used for a different leave. Reload the page and submit again.',
  },
  LEAVE_ID_TAKEN: { zh: '请假编号已被占用，请刷新页面后重新提交。', en: 'This leave ID is already taken. Reload the page and submit again.' },
  LEAVE_OVERLAPS: {
    zh: '与该员工已有的请假时间重叠，请先修改或删除原来的请假。',
    en: "This overlaps another leave of this person. Change or delete that leave first.",
  },
  LEAVE_PERIOD_INVALID: {
    zh: '请假时间不正确：结束时间必须晚于开始时间，并且晚于现在。',
    en: 'Check the dates: a leave must end after it starts, and end in the future.',
  },

  // notifications and reminders
  NOTIFICATIONS_NEED_A_USER: { zh: '通知属于具体员工，请用个人账号登录查看。', en: 'Notifications belong to a person. Log in with your own account.' },
  NOTIFICATION_NOT_FOUND: { zh: '通知不存在或已被删除。', en: 'This notification does not exist.' },
  NOTIFICATION_TARGET_NOT_FOUND: {
    zh: '该提醒渠道（群机器人或 Webhook）不存在，请刷新后重试。',
    en: 'This robot or webhook does not exist. Refresh and try again.',
  },
  PREFERENCES_INVALID: { zh: '部分通知设置填写有误，请按提示修改。', en: 'Some notification settings are invalid. Fix the highlighted fields.' },
  TARGET_INVALID: { zh: '群机器人或 Webhook 配置有误，请按提示修改。', en: 'The robot or webhook settings are invalid. Fix the highlighted fields.' },
  TARGET_EXISTS: {
    zh: '你已添加过这个群机器人或 Webhook，请直接修改原来的那条。',
    en: 'You already added this robot or webhook. Edit that one instead.',
  },
  TOO_MANY_TARGETS: { zh: '提醒渠道数量已达上限，请先删除一个再添加。', en: 'You have the most robots and webhooks allowed. Remove one first.' },

  // responses and the events API
  RESPONSE_RULE_NOT_FOUND: {
    zh: '响应规则不存在或已被删除，请刷新后重试。',
    en: 'This response rule does not exist or was deleted. Refresh and try again.',
  },
  RESPONSE_RULE_NAME_TAKEN: { zh: '已有同名的响应规则，请换一个名称。', en: 'A response rule with this name already exists. Choose another name.' },
  RESPONSE_RULE_INVALID: { zh: '响应规则填写有误，请按提示修改。', en: 'The response rule has errors. Fix the highlighted fields.' },
  LINK_NOT_FOUND: { zh: '链接无效或已失效。', en: 'This link is invalid or no longer works.' },
  API_KEY_REQUIRED: {
    zh: '事件接口只接受 API 密钥调用：请在请求头带上 X-Api-Key，并用该密钥的签名密钥签名。',
    en: "Events must be sent with an API key (X-Api-Key header) and signed with that key's signing secret.",
  },
  SIGNATURE_MISSING: {
    zh: '缺少签名：请在请求头带上 X-Sop-Timestamp 和 X-Sop-Signature。',
    en: 'The signature is missing. Send the X-Sop-Timestamp and X-Sop-Signature headers.',
  },
  SIGNATURE_STALE: {
    zh: '签名时间戳已过期：请使用当前 Unix 时间（秒，误差不超过 5 分钟），并检查服务器时钟。',
    en: 'The signature timestamp is out of range. Use the current Unix time in seconds (within 5 minutes) and check the server clock.',
  },
  SIGNATURE_INVALID: {
    zh: '签名校验失败：请用该 API 密钥的签名密钥，对“时间戳.请求体原文”重新计算签名。',
    en: 'The signature does not match. Sign "<timestamp>.<raw body>" with this API key\'s signing secret.',
  },
  SIGNING_KEY_RETIRED: {
    zh: '该 API 密钥的签名密钥来自已停用的服务端密钥：请在“API 密钥”页轮换签名密钥，并用新的签名密钥签名。',
    en: 'This API key\'s signing secret comes from a retired server key. Rotate its signing secret on the API keys page and sign with the new one.',
  },
  API_KEY_REVOKED: { zh: '该 API 密钥已吊销，请新建一个。', en: 'This API key is revoked; create a new one.' },

  // WeCom
  WECOM_NOT_CONNECTED: { zh: '本组织还没有连接企业微信。', en: 'This organization has not connected WeCom yet.' },
  WECOM_CHECK_FAILED: { zh: '企业微信拒绝了这些连接信息，请检查标出的字段。', en: 'WeCom refused these connection details: check the field marked.' },
  WECOM_UNREACHABLE: { zh: '暂时无法连接企业微信进行校验，设置未保存，请稍后重试。', en: 'WeCom could not be reached to check the connection; nothing was saved. Try again shortly.' },
  WECOM_CALLBACK_NOT_FOUND: { zh: '该回调地址没有对应的企业微信连接。', en: 'No WeCom connection answers at this callback address.' },
  WECOM_SIGNATURE_INVALID: { zh: '回调签名不匹配：请检查企业微信后台填写的 Token。', en: 'The callback signature does not match: check the Token entered in WeCom.' },
  WECOM_TIMESTAMP_STALE: { zh: '回调时间戳与服务器时间相差超过 5 分钟。', en: 'The callback timestamp is more than 5 minutes from the server clock.' },
  WECOM_CONTACT_WAY_REFUSED: { zh: '企业微信拒绝了这个"联系我"二维码的设置，请查看标出的字段。', en: 'WeCom refused the contact-me QR code; see the marked field.' },
  WECOM_QR_NOT_FOUND: { zh: '这个渠道码没有企业微信"联系我"二维码。', en: 'This channel code has no WeCom "contact me" QR code.' },
  WECOM_QR_UNAVAILABLE: { zh: '企业微信的图片服务器暂时没有返回二维码图片，请稍后重试。', en: 'WeCom\'s image server did not return the QR image. Try again shortly.' },
  WECOM_TAG_GROUP_EMPTY: { zh: '企业微信的标签组至少要有一个标签：请先在这个组里添加标签。', en: 'A WeCom tag group needs at least one tag: add a tag to this group first.' },
  WECOM_MEMBER_NOT_FOUND: { zh: '企业微信中没有这个成员（以最近一次同步为准）。', en: 'WeCom has no such member (as of the last sync).' },
  WECOM_USER_NOT_FOUND: { zh: '请选择本组织的在职用户。', en: 'Pick an active user of your organization.' },
  WECOM_SECRETS_UNREADABLE: { zh: '企业微信连接的密钥是用已不在 WECOM_SECRET_KEYS 中的密钥加密的：请管理员重新填写密钥并保存。', en: 'The WeCom secrets were sealed with a key no longer in WECOM_SECRET_KEYS: an admin must enter them again and save.' },
  WECOM_OAUTH_UNCONFIGURED: { zh: '企业微信内登录需要在 API 上配置应用的公网地址（APP_URL）：请联系管理员。', en: 'Signing in inside WeCom needs the app\'s public address (APP_URL) set on the API: ask your administrator.' },
  WECOM_PAYLOAD_INVALID: { zh: '回调内容不是发给本企业的企业微信加密消息：请检查 EncodingAESKey 和企业 ID。', en: 'The callback is not WeCom\'s encrypted message for this corporation: check the EncodingAESKey and corp id.' },

  // dashboards and SOP results
  DASHBOARD_RANGE_INVALID: { zh: '日期范围有误：结束日期不能早于开始日期，且最长 366 天。', en: 'The date range is invalid: it must end on or after its start and span at most 366 days.' },
  DASHBOARD_NEEDS_A_USER: { zh: '该看板属于个人账号，API 密钥无法查看。', en: 'This dashboard belongs to a person; an API key cannot open it.' },
  TEAM_NOT_MANAGED: { zh: '你只能查看自己管理的团队。', en: 'You can only see the teams you manage.' },
  CUT_NOT_ALLOWED: { zh: '经理只能按团队、员工、日或周查看；SOP 效果仅运营和管理员可见。', en: 'Managers can cut by team, employee, day or week; SOP results are for ops and admins.' },
  CUT_FILTER_INVALID: { zh: '按团队或员工分组时只能筛选团队，按 SOP、版本、步骤、变体或渠道分组时只能筛选 SOP。', en: 'Team and employee cuts take a team filter; SOP, version, step, variant and channel cuts take an SOP filter.' },
  STEP_NOT_FOUND: { zh: '该 SOP 没有这个步骤，请刷新后重试。', en: 'This SOP has no such step. Reload and try again.' },
  ROLLUP_REBUILD_BUSY: { zh: '此刻有任务正在写入，暂时无法按新的时区或归因窗口重算看板数据，设置未改变，请稍后重试。', en: 'Tasks are being written right now, so the dashboard figures cannot be rebuilt for the new zone or window. Nothing changed; try again in a moment.' },
  STEP_HAS_NO_VARIANTS: { zh: '该步骤没有可选的内容变体。', en: 'This step has no variants to choose from.' },
  VARIANT_NOT_FOUND: { zh: '该步骤没有这个变体，请刷新后重试。', en: 'This step has no variant with this name. Reload and try again.' },
};
