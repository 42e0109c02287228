import type { TFunction } from 'i18next';

/**
 * How a feature words the API's field problems: a pattern of the API's (English) problem, the message key that
 * says it, and optionally the values it fills in (by default the pattern's named groups).
 */
export type ProblemWords = [RegExp, string, ((m: RegExpExecArray) => Record<string, unknown>)?][];

/** An API problem in the viewer's words; unknown ones as the API said them. */
export function problemText(t: TFunction, words: ProblemWords, problem: string): string {
  for (const [pattern, key, values] of words) {
    const m = pattern.exec(problem);
    if (m) return t(key, values ? values(m) : { ...m.groups });
  }
  return problem;
}

/**
 * The API's generic field checks (class-validator's messages and the API's shared validators), worded for
 * every form; a feature's own words come first where it has them.
 */
export const COMMON_PROBLEMS: ProblemWords = [
  [/^must be a string$/, 'common:problems.string'],
  [/^should not be empty$|^should not be null or undefined$/, 'common:problems.empty'],
  [/^must be shorter than or equal to (?<n>\d+) characters$/, 'common:problems.maxLength'],
  [/^must be longer than or equal to (?<n>\d+) characters$/, 'common:problems.minLength'],
  [/^each value in .+ must be a UUID$/, 'common:problems.eachUuid'],
  [/^must be a UUID$/, 'common:problems.uuid'],
  [/^must be an email$/, 'common:problems.email'],
  [/^must be one of the following values: (?<values>.+)$/, 'common:problems.oneOf'],
  [/^must be an integer number$/, 'common:problems.integer'],
  [/^must not be less than (?<n>-?[\d.e+]+)$/, 'common:problems.min'],
  [/^must not be greater than (?<n>-?[\d.e+]+)$/, 'common:problems.max'],
  [/^must be a number conforming to the specified constraints$/, 'common:problems.number'],
  [/^must be a number with at most 2 decimal places$/, 'common:problems.amount'],
  [/^must be a Date instance$|^must be a valid ISO 8601 date string$/, 'common:problems.date'],
  [/^must be between 1900-01-01 and 2200-01-01$/, 'common:problems.dateRange'],
  [/^must be a boolean value$/, 'common:problems.boolean'],
  [/^must be an array$/, 'common:problems.array'],
  [/^must contain no more than (?<n>\d+) elements$/, 'common:problems.arrayMax'],
  [/^must contain at least (?<n>\d+) elements$/, 'common:problems.arrayMin'],
  [/^must be an object$/, 'common:problems.object'],
  [/^property (?<field>\S+) should not exist$/, 'common:problems.unknownField'],
  [/^must not start or end with spaces$/, 'common:problems.spaces'],
  [/^must be an IANA time zone/, 'common:problems.timeZone'],
  [/^must not contain the NUL character/, 'common:problems.nul'],
  [/^must be valid Unicode text/, 'common:problems.surrogate'],
  [/^must match .+ regular expression$/, 'common:problems.pattern'],
  [/^WeCom refused it(?: for this app secret)? \(errcode (?<code>\d+): (?<message>.*)\)$/, 'common:problems.wecomRefused'],
];

/**
 * WeCom failures as the API and the worker record them (libs/wecom's errors, the leftovers' reasons), worded for the
 * console: ops read "could not reach WeCom" in their language, with WeCom's own code and message kept as WeCom gave them.
 */
export const WECOM_FAILURES: ProblemWords = [
  [/^WeCom could not be reached \((?<path>[^)]+)\)/, 'common:wecomFailures.unreachable'],
  [/^WeCom answered (?<status>\d+) without its JSON \((?<path>[^)]+)\)/, 'common:wecomFailures.badAnswer'],
  [/^WeCom (?<path>\/\S+) answered errcode (?<code>-?\d+): (?<message>[\s\S]*)$/, 'common:wecomFailures.refused'],
  [/^WeCom refused (?<path>\S+) \(errcode (?<code>-?\d+): (?<message>[\s\S]*)\)$/, 'common:wecomFailures.refused'],
  [/^made while WeCom was being disconnected/, 'common:wecomFailures.madeWhileDisconnecting'],
  [/^the organization has no WeCom connection/, 'common:wecomFailures.notConnected'],
  [/^The connection's secrets were sealed with a key no longer in WECOM_SECRET_KEYS/, 'common:wecomFailures.secretsUnreadable'],
];

/** A recorded WeCom failure in the viewer's words; anything else as recorded. */
export const wecomFailureText = (t: TFunction, message: string) => problemText(t, WECOM_FAILURES, message);

/** A problem in a feature's words first, then the common ones; unknown ones as the API said them. */
export const featureProblemText = (t: TFunction, words: ProblemWords, problem: string): string =>
  problemText(t, [...words, ...COMMON_PROBLEMS], problem);
