export * from './rule';
export * from './sql-params';
export { compileRule, type CompileContext } from './compile';
export { ATTRIBUTE_KEY, validateRule, type RuleContext } from './validate';
