export * from './rule';
export * from './sql-params';
export { compileRule, silenceCutoff, type CompileContext } from './compile';
export { ATTRIBUTE_KEY, checkRule, validateRule, type RuleCheck, type RuleContext } from './validate';
