import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '团队看板',
    tabs: { overview: '概览', cuts: '多维分析', sops: 'SOP 效果' },
    cuts: {
      by: '分析维度', sop: 'SOP', allSops: '全部 SOP', chart: '图表',
      dimensions: { team: '团队', employee: '员工', time: '时间', sop: 'SOP', version: 'SOP 版本', step: '步骤', variant: 'A/B 版本', channel: '渠道' },
      columns: { created: '任务数', done: '已完成', expired: '已过期', overdueNow: '当前逾期', purchases: '购买', revenue: '归因收入', medianMinutesToDone: '完成用时中位数（分钟）' },
    },
    sopTable: { name: 'SOP', status: '状态', statuses: { draft: '草稿', active: '运行中', paused: '已暂停', archived: '已归档' } },
    myWeek: { title: '我的本周（括号内为上周）' },
    period: '时间范围', granularity: { day: '按天', week: '按周' }, team: '团队', allTeams: '全部团队',
    measures: {
      completionRate: '完成率', onTimeRate: '准时率', overdueNow: '当前逾期', responseRate: '响应率', conversionRate: '转化率',
      done: '已完成', created: '任务数', expired: '已过期', skipped: '已跳过', medianMinutesToDone: '完成用时中位数（分钟）', revenue: '归因收入',
    },
    hints: {
      completionRate: '已完成 ÷ 已到截止时间的任务（已完成、已跳过、已过期和逾期未完成）；还在时间窗口内、未完成的任务暂不计入。',
      onTimeRate: '在时间窗口内完成的任务 ÷ 已完成的任务。',
      responseRate: '有归因响应的已完成任务 ÷ 已完成的任务。',
      conversionRate: '有归因购买的已完成任务 ÷ 已完成的任务。',
      overdueNow: '此刻窗口已结束、仍未完成的任务，不受所选时间范围影响。',
    },
    vsPrevious: '较上期 {{change}}', noPrevious: '上期无数据',
    teams: '各团队', members: '{{count}} 人', trend: '趋势', employees: '员工',
    columns: { name: '员工', team: '团队', created: '任务数', done: '已完成', completionRate: '完成率', onTimeRate: '准时率', overdueNow: '当前逾期', responseRate: '响应率', expired: '已过期' },
    drill: '查看逾期任务', export: { label: '导出', csv: '导出 CSV', xlsx: '导出 Excel' },
    empty: '这段时间没有任务。', noTeams: '你还没有管理的团队。',
    results: {
      title: 'SOP 效果', funnel: '步骤漏斗', exits: '退出原因', variants: 'A/B 版本对比', stage: { entered: '进入', created: '生成任务', done: '完成', responded: '响应', converted: '转化' },
      variant: '版本', trials: '完成数', responseRate: '响应率', interval: '95% 置信区间', best: '最优概率', conversionRate: '转化率',
      makeWinner: '设为唯一版本', winnerConfirm: '第 {{step}} 步只保留版本 {{variant}}？运行中的 SOP 会发布新版本。', winnerDone: '已设为唯一版本', current: '当前在用',
      noExits: '没有退出记录', noVariants: '这段时间没有 A/B 版本', reason: '原因', step: '步骤', count: '人数',
    },
  },
  en: {
    title: 'Team dashboard',
    tabs: { overview: 'Overview', cuts: 'Cuts', sops: 'SOP results' },
    cuts: {
      by: 'Cut by', sop: 'SOP', allSops: 'All SOPs', chart: 'Chart',
      dimensions: { team: 'Team', employee: 'Employee', time: 'Time', sop: 'SOP', version: 'SOP version', step: 'Step', variant: 'A/B variant', channel: 'Channel' },
      columns: { created: 'Tasks', done: 'Done', expired: 'Expired', overdueNow: 'Overdue now', purchases: 'Purchases', revenue: 'Attributed revenue', medianMinutesToDone: 'Median minutes to done' },
    },
    sopTable: { name: 'SOP', status: 'Status', statuses: { draft: 'Draft', active: 'Active', paused: 'Paused', archived: 'Archived' } },
    myWeek: { title: 'My week (last week in brackets)' },
    period: 'Period', granularity: { day: 'By day', week: 'By week' }, team: 'Team', allTeams: 'All teams',
    measures: {
      completionRate: 'Completion', onTimeRate: 'On time', overdueNow: 'Overdue now', responseRate: 'Response rate', conversionRate: 'Conversion',
      done: 'Done', created: 'Tasks', expired: 'Expired', skipped: 'Skipped', medianMinutesToDone: 'Median minutes to done', revenue: 'Attributed revenue',
    },
    hints: {
      completionRate: 'Done ÷ tasks whose window has closed (done, skipped, expired and overdue); pending tasks still inside their window are not counted yet.',
      onTimeRate: 'Tasks done inside their window ÷ tasks done.',
      responseRate: 'Done tasks with an attributed response ÷ tasks done.',
      conversionRate: 'Done tasks with an attributed purchase ÷ tasks done.',
      overdueNow: 'Tasks whose window has ended and that are still not done, right now, whatever the period chosen.',
    },
    vsPrevious: '{{change}} vs previous period', noPrevious: 'No previous data',
    teams: 'Teams', members: '{{count}} people', trend: 'Trend', employees: 'Employees',
    columns: { name: 'Employee', team: 'Team', created: 'Tasks', done: 'Done', completionRate: 'Completion', onTimeRate: 'On time', overdueNow: 'Overdue now', responseRate: 'Response rate', expired: 'Expired' },
    drill: 'Overdue tasks', export: { label: 'Export', csv: 'Export CSV', xlsx: 'Export Excel' },
    empty: 'No tasks in this period.', noTeams: 'You do not manage a team yet.',
    results: {
      title: 'Results', funnel: 'Funnel by step', exits: 'Exits by reason', variants: 'A/B variants', stage: { entered: 'Entered', created: 'Task created', done: 'Done', responded: 'Responded', converted: 'Converted' },
      variant: 'Variant', trials: 'Done', responseRate: 'Response rate', interval: '95% interval', best: 'Chance best', conversionRate: 'Conversion',
      makeWinner: 'Make the only variant', winnerConfirm: 'Keep only variant {{variant}} in step {{step}}? A running SOP publishes a new version.', winnerDone: 'Now the only variant', current: 'In use',
      noExits: 'No exits', noVariants: 'No A/B variants in this period', reason: 'Reason', step: 'Step', count: 'Contacts',
    },
  },
};
