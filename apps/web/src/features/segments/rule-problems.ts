import type { TFunction } from 'i18next';
import { featureProblemText, type ProblemWords } from '../../lib/problems';

/**
 * The segment rule checker's problems (libs/domain segments validate.ts) in the viewer's words, for every rule
 * editor (segments, computed tags); a problem without words shows as the API said it.
 */
const RULE_PROBLEMS: ProblemWords = [
  [/^must be a number$/, 'segments:ruleProblems.number'],
  [/^unknown tag$/, 'segments:ruleProblems.unknownTag'],
  [/^is required$/, 'segments:ruleProblems.required'],
  [/^must be a non-empty string( of at most \d+ characters)?$/, 'segments:ruleProblems.required'],
  [/^must be a non-empty list of rules$/, 'segments:ruleProblems.emptyGroup'],
  [/^must be 1 to 64 letters, digits, _ \. or -$/, 'segments:ruleProblems.key'],
  [/^must be a whole number of days from 0 to (?<max>\d+)$/, 'segments:ruleProblems.days'],
  [/^must be a list of (?<min>\d+) to \d+ ids$/, 'segments:ruleProblems.ids'],
];

export const ruleProblemText = (t: TFunction, problem: string): string => featureProblemText(t, RULE_PROBLEMS, problem);
