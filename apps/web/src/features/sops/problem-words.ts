import type { TFunction } from 'i18next';
import { featureProblemText, problemText, type ProblemWords } from '../../lib/problems';

/**
 * The SOP check's problems in the viewer's words. The check (libs/domain/src/sops: the zod schema in definition.ts,
 * validate.ts, template.ts, materials.ts, cadence.ts's recurrenceProblems) runs in the API and, for the shape, in the
 * browser; it says each problem in English. problem-words.spec.ts feeds this list every problem the check gives.
 */

const P = 'sops:problems';

/**
 * liquidjs's own messages (a parse error, a limit hit while rendering), each worded; `, line:N, col:M` becomes
 * the position in the viewer's words. A message not listed keeps Liquid's text behind the caller's lead-in.
 */
const LIQUID: ProblemWords = [
  [/^memory alloc limit exceeded$/, `${P}.liquid.memory`],
  [/^template render limit exceeded$/, `${P}.liquid.time`],
  [/^parse length limit exceeded$/, `${P}.liquid.length`],
  [/^undefined filter: (?<name>.+)$/, `${P}.liquid.filter`],
  [/^tag "(?<name>[^"]+)" not found$/, `${P}.liquid.tag`],
  [/^tag (?<tag>\{%.*%\}) not closed$/, `${P}.liquid.tagNotClosed`],
  [/^output "(?<output>.*)" not closed$/, `${P}.liquid.outputNotClosed`],
  [/^invalid value expression: ""$/, `${P}.liquid.noExpression`],
  [/^invalid value expression: "(?<expression>.*)"$/, `${P}.liquid.expression`],
  // template.ts refuses these tags at parse: step content has no files to include
  [/^the \{% (?<name>\w+) %\} tag is not available in step content$/, `${P}.liquid.notAvailable`],
];

/**
 * A Liquid message in the viewer's words, its position kept: "memory alloc limit exceeded, line:1, col:19" →
 * 模板超出内存限制（第 1 行第 19 列）. A message LIQUID does not word keeps Liquid's text, after the lead-in whose key
 * is `lead` when given, else alone (the caller's own words say what failed).
 */
export function liquidText(t: TFunction, message: string, lead?: string): string {
  const [, body, line, col] = /^([\s\S]*?)(?:, line:(\d+), col:(\d+))?$/.exec(message.trim())!;
  let worded = problemText(t, LIQUID, body);
  if (worded === body && lead) worded = t(lead, { message: body });
  return line ? t(`${P}.liquid.at`, { message: worded, line, col }) : worded;
}

/** zod's name for a type, in words. */
const typeName = (t: TFunction, type: string) => t(`${P}.types.${type}`, { defaultValue: type });
/** zod's list of options or keys (`"a"|"b"`, `"a", "b"`), as the codes without quotes. */
const codes = (list: string) => list.split(/\||, /).map((c) => c.replace(/^"|"$/g, '')).join(', ');

/** Every problem the SOP check says, its words, and the values they need; the common ones (COMMON_PROBLEMS) after. */
export function sopProblemWords(t: TFunction): ProblemWords {
  return [
    // definition.ts: the schema's own messages
    [/^must be a time of day as HH:MM/, `${P}.clock`],
    [/^must not be empty$/, 'common:problems.empty'],
    [/^must be an http\(s\) URL$/, `${P}.httpUrl`],
    [/^must not carry a user name or password/, `${P}.credentials`],
    [/^must be one of contactOwner, groupOwner, user \(with userId\), roundRobin \(with teamId\)$/, `${P}.executorRule`],
    [/^must be one of replied, bought, tagAdded, tagRemoved, leftSegment/, `${P}.exitRule`],
    [/^must be \{ segmentId \} or \{ groups: /, `${P}.audienceShape`],
    [/^must be an ISO date-time with a UTC offset$/, `${P}.dateTime`],
    [/^an SOP needs at least one step$/, `${P}.noSteps`],
    // zod's own messages where the schema has none
    [/^Invalid input: expected \w+, received (?:undefined|null)$/, `${P}.required`],
    [/^Invalid input: expected (?<type>\w+), received \w+$/, `${P}.type`, (m) => ({ type: typeName(t, m.groups!.type) })],
    [/^Invalid input: expected (?<value>"[^"]*"|\S+)$/, `${P}.literal`],
    [/^Invalid option: expected one of (?<values>.+)$/, 'common:problems.oneOf', (m) => ({ values: codes(m.groups!.values) })],
    [/^Too small: expected string to have >=1 characters$/, 'common:problems.empty'],
    [/^Too small: expected string to have >=?(?<n>\d+) characters$/, 'common:problems.minLength'],
    [/^Too big: expected string to have <=?(?<n>\d+) characters$/, 'common:problems.maxLength'],
    [/^Too small: expected array to have >=?(?<n>\d+) items$/, 'common:problems.arrayMin'],
    [/^Too big: expected array to have <=?(?<n>\d+) items$/, 'common:problems.arrayMax'],
    [/^Too small: expected number to be >=?(?<n>-?[\d.]+)$/, 'common:problems.min'],
    [/^Too big: expected number to be <=?(?<n>-?[\d.]+)$/, 'common:problems.max'],
    [/^Unrecognized keys?: (?<field>.+)$/, 'common:problems.unknownField', (m) => ({ field: codes(m.groups!.field) })],
    [/^Invalid input$/, 'common:problems.pattern'],

    // validate.ts: what the tenant has, and the fields that go together
    [/^unknown segment \S+$/, `${P}.unknown.segment`],
    [/^unknown user \S+$/, `${P}.unknown.user`],
    [/^unknown or disabled user \S+$/, `${P}.unknown.user`],
    [/^unknown team \S+$/, `${P}.unknown.team`],
    [/^unknown tag \S+$/, `${P}.unknown.tag`],
    [/^unknown SOP \S+$/, `${P}.unknown.sop`],
    [/^unknown material \S+$/, `${P}.unknown.material`], // materials.ts
    [/^is not an IANA time zone/, 'common:problems.timeZone'],
    [/^a journey enrolls contacts: give a segmentId$/, `${P}.journeyNeedsSegment`],
    [/^only journeys enroll on events$/, `${P}.eventsJourneyOnly`],
    [/^a journey that starts on an event enrolls only on that event$/, `${P}.eventNoExisting`],
    [/^a recurring SOP needs schedule\.rrule$/, `${P}.needsSchedule`],
    [/^only recurring SOPs have a schedule$/, `${P}.scheduleRecurringOnly`],
    [/^a broadcast needs sendAt$/, `${P}.needsSendAt`],
    [/^is in the past$/, `${P}.inPast`],
    [/^only broadcasts have sendAt$/, `${P}.sendAtBroadcastOnly`],
    [/^leftSegment needs a segment audience$/, `${P}.leftSegmentNeedsSegment`],
    [/^is also in removeTagIds$/, `${P}.alsoRemoved`],
    [/^a second tag of the same exclusive group$/, `${P}.exclusiveTwice`],
    [/^an SOP cannot hand over to itself$/, `${P}.handoverSelf`],
    [/^only a journey can take a hand-over$/, `${P}.handoverJourneyOnly`],
    [/^reassign needs executorDailyCapacity$/, `${P}.reassignNeedsCapacity`],
    [/^comes before the previous step \(day (?<day>\d+)\)/, `${P}.stepOrder`],
    [/^a journey step needs offsetDays/, `${P}.needsOffsetDays`],
    [/^a journey step needs a window/, `${P}.needsWindow`],
    [/^journey steps use window; dueWithinMinutes is for/, `${P}.journeyNoDueWithin`],
    [/^only journey steps have offsetDays$/, `${P}.offsetDaysJourneyOnly`],
    [/^only journey steps have a window/, `${P}.windowJourneyOnly`],
    [/^ends \((?<end>[\d:]+)\) before it starts \((?<start>[\d:]+)\)$/, `${P}.windowEndsBeforeStart`],
    [/^lies wholly inside the quiet hours$/, `${P}.windowInQuietHours`],
    [/^group SOPs have no contact owner/, `${P}.groupNoContactOwner`],
    [/^groupOwner needs a groups audience$/, `${P}.groupOwnerNeedsGroups`],
    [/^only (?<channels>[\w, ]+) steps can be handed to WeCom$/, `${P}.massSendChannels`,
      (m) => ({ channels: m.groups!.channels.split(', ').map((c) => t(`inbox:channels.${c}`, { defaultValue: c })).join(t(`${P}.listSeparator`)) })],
    [/^a group_chat mass-send goes to customer groups/, `${P}.groupChatNeedsGroups`],
    [/^a wecom_chat mass-send goes to customers/, `${P}.wecomChatNeedsSegment`],
    [/^only a material picked from the library \(materialId\) is marked as an image$/, `${P}.imageNeedsLibrary`],
    [/^only a material picked from the library \(materialId\) carries its cover$/, `${P}.coverNeedsLibrary`],
    [/^group SOPs have no contact: use group\.\* variables$/, `${P}.groupNoContact`],
    [/^contact SOPs have no group: use contact\.\* variables$/, `${P}.contactNoGroup`],
    [/^must be an https URL/, `${P}.httpsOnly`],
    // validate.ts: what WeCom would refuse of a mass-send's attachments
    [/^WeCom takes at most (?<max>\d+) attachments in a mass-send \((?<given>\d+) given\)$/, `${P}.massSendAttachments`],
    [/^a WeCom Moments post carries images or one link, not both/, `${P}.momentsMixed`],
    [/^a WeCom Moments post carries at most (?<max>\d+) images \((?<given>\d+) given\)$/, `${P}.momentsImages`],
    [/^a WeCom Moments post carries at most one link \((?<given>\d+) given\)$/, `${P}.momentsLinks`],
    [/^a WeCom Moments link is posted with a cover image/, `${P}.momentsCover`],
    // the API's image check (wecom-images.ts) and a published SOP's kind (sops.service.ts)
    [/^the image is over WeCom's 10 MB for a mass-send attachment$/, `${P}.imageTooBig`],
    [/^WeCom takes jpg or png images; this one is not an image WeCom knows$/, `${P}.imageUnknownType`],
    [/^WeCom takes jpg or png images; this one is (?<type>\S+)$/, `${P}.imageType`],
    [/^a published SOP stays (?<kind>\w+); create a new SOP instead$/, `${P}.publishedKind`,
      (m) => ({ kind: t(`sops:kindShort.${m.groups!.kind}`, { defaultValue: m.groups!.kind }) })],

    // template.ts: the step's Liquid template
    [/^is not a valid Liquid template: (?<message>[\s\S]*)$/, `${P}.liquidInvalid`, (m) => ({ detail: liquidText(t, m.groups!.message) })],
    [/^unknown variable "(?<name>[^".]+)"; use (?<known>.+)$/, `${P}.unknownVariable`],
    [/^unknown variable "(?<name>[^"]+)"; (?<root>\w+) has (?<fields>.+)$/, `${P}.unknownField`],
    [/^use contact\.attributes\.<key>, not the whole object$/, `${P}.wholeAttributes`],
    // the designer's message preview (sop-preview.service.ts): Liquid's failure for that customer
    [/^cannot be rendered for this contact: (?<message>[\s\S]*)$/, `${P}.preview`, (m) => ({ detail: liquidText(t, m.groups!.message) })],

    // cadence.ts: a recurring schedule's RRULE
    [/^give only the RRULE part/, `${P}.rrule.only`],
    [/^is not a valid RRULE: (?<message>.*)$/, `${P}.rrule.invalid`, (m) => ({ detail: problemText(t, RRULE, m.groups!.message) })],
    [/^FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY/, `${P}.rrule.freq`],
    [/^must say the time of day with BYHOUR and BYMINUTE/, `${P}.rrule.time`],
    [/^BYSECOND is not supported/, `${P}.rrule.second`],
    [/^never fires from now on$/, `${P}.rrule.never`],
    [/^fires more often than every (?<n>\d+) minutes$/, `${P}.rrule.tooOften`],
  ];
}

/** The rrule library's messages for a rule it cannot read; others as it said them. */
const RRULE: ProblemWords = [
  [/^one RRULE only$/, `${P}.rrule.oneRule`], // cadence.ts parseRecurrence
  [/^Unknown RRULE property '(?<name>[^']*)'$/, `${P}.rrule.property`],
  [/^Invalid frequency/, `${P}.rrule.badFreq`],
  [/^Invalid UNTIL value: (?<value>.*)$/, `${P}.rrule.until`],
];

/** An SOP check's problem in the viewer's words (the common ones too); one not known as the API said it. */
export const sopProblemText = (t: TFunction, problem: string): string =>
  featureProblemText(t, sopProblemWords(t), problem);

/**
 * The problems a refusal of the SOP check names (a 422's details), each in words and joined; '' when it names none
 * (the caller then says the refusal itself).
 */
export function refusalProblems(t: TFunction, error: unknown): string {
  const details = (error as { details?: { problem: string }[] } | null)?.details ?? [];
  return details.map((d) => sopProblemText(t, d.problem)).join(t(`${P}.separator`));
}

/** Why tasks were held (libs/domain template.ts failureReason; the planner's hold for want of room), in words. */
export function heldReasonText(t: TFunction, reason: string): string {
  // the list says the content could not be rendered: Liquid's reason alone, a lead-in only for a message not worded
  const render = /^the template could not be rendered: ([\s\S]*)$/.exec(reason);
  if (render) return liquidText(t, render[1], `${P}.liquid.other`);
  return problemText(t, [
    [/^no room within (?<days>\d+) days: (?<limit>contact cap|executor capacity)$/, `${P}.held.noRoom`,
      (m) => ({ days: m.groups!.days, limit: t(`${P}.held.limits.${m.groups!.limit === 'contact cap' ? 'contactCap' : 'executorCapacity'}`) })],
  ], reason);
}
