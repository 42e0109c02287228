import 'reflect-metadata';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsDate, IsEmail, IsIn, IsInt, IsNotEmpty, IsObject, IsString, IsUUID, Matches, Max, MaxLength,
  Min, MinLength, validateSync,
} from 'class-validator';
import { flattenValidationErrors } from '../../../api/src/common/validation';
import { common } from '../i18n/common';
import { COMMON_PROBLEMS, problemText } from './problems';

/** Every check class-validator words for the API's forms, failing at once. */
class Everything {
  @IsString() text: unknown = 1;
  @IsNotEmpty() filled = '';
  @MaxLength(200) long = 'x'.repeat(201);
  @MinLength(3) short = 'x';
  @IsUUID() id = 'nope';
  @IsUUID('all', { each: true }) ids = ['nope'];
  @IsEmail() email = 'nope';
  @IsIn(['a', 'b']) choice = 'c';
  @IsInt() whole = 1.5;
  @Min(0) low = -1;
  @Max(10) high = 11;
  @IsDate() when = 'yesterday';
  @IsBoolean() flag = 'yes';
  @IsArray() list = 'x';
  @ArrayMaxSize(2) many = [1, 2, 3];
  @ArrayMinSize(1) few: number[] = [];
  @IsObject() object = 'x';
  @Matches(/^a+$/) pattern = 'b';
}

const words = (lang: 'zh' | 'en') => {
  const problems = (common[lang] as { problems: Record<string, string> }).problems;
  return ((key: string, values: Record<string, string>) =>
    problems[key.replace('common:problems.', '')].replace(/\{\{(\w+)\}\}/g, (_, k) => values[k])) as never;
};

describe('the API field problems in the viewer\'s words', () => {
  it('words every class-validator message the API answers, in Chinese and English', () => {
    const details = flattenValidationErrors(validateSync(new Everything()));
    expect(details).toHaveLength(18);
    for (const { path, problem } of details) {
      const zh = problemText(words('zh'), COMMON_PROBLEMS, problem);
      expect({ path, worded: zh !== problem }).toEqual({ path, worded: true });
      expect(zh).toMatch(/[\u4e00-\u9fff]/);
      expect(problemText(words('en'), COMMON_PROBLEMS, problem)).not.toMatch(/\{\{/);
    }
    expect(problemText(words('zh'), COMMON_PROBLEMS, 'must be shorter than or equal to 200 characters')).toBe('最多 200 个字符');
    expect(problemText(words('zh'), COMMON_PROBLEMS, 'property colour should not exist')).toBe('不支持的字段 colour');
  });

  it('names a key the texts have for every pattern, and leaves an unknown problem as the API said it', () => {
    const zh = (common.zh as { problems: Record<string, string> }).problems;
    for (const [, key] of COMMON_PROBLEMS) expect(zh[key.replace('common:problems.', '')]).toBeTruthy();
    expect(problemText(words('zh'), COMMON_PROBLEMS, 'unknown tag 42')).toBe('unknown tag 42');
  });
});
