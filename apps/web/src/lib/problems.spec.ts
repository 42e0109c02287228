import 'reflect-metadata';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsDate, IsEmail, IsIn, IsInt, IsNotEmpty, IsObject, IsString, IsUUID, Matches, Max, MaxLength,
  Min, MinLength, validateSync,
} from 'class-validator';
import { flattenValidationErrors } from '../../../api/src/common/validation';
import { common } from '../i18n/common';
import { WecomApiError, WecomUnreachable } from '../../../../libs/wecom/src/client';
import { failureText } from '../../../api/src/modules/wecom/contact-way-leftovers';
import { COMMON_PROBLEMS, problemText, WECOM_FAILURES } from './problems';

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

describe('WeCom failures in the viewer\'s words', () => {
  const texts = (lang: 'zh' | 'en') => {
    const failures = (common[lang] as { wecomFailures: Record<string, string> }).wecomFailures;
    return ((key: string, values: Record<string, string>) =>
      failures[key.replace('common:wecomFailures.', '')].replace(/\{\{(\w+)\}\}/g, (_, k) => values[k])) as never;
  };
  // as libs/wecom's client and the leftovers record them
  const recorded = [
    new WecomUnreachable('WeCom could not be reached (/cgi-bin/externalcontact/del_contact_way): fetch failed').message,
    new WecomUnreachable('WeCom answered 502 without its JSON (/cgi-bin/externalcontact/get)').message,
    new WecomApiError(60011, 'no privilege to access/modify contact/party/agent', '/cgi-bin/externalcontact/mark_tag').message,
    failureText(new WecomApiError(41054, 'invalid config_id', '/cgi-bin/externalcontact/del_contact_way'))!,
    'made while WeCom was being disconnected: not deleted in WeCom',
    'the organization has no WeCom connection',
  ];

  it('words each in Chinese, keeping WeCom\'s own code and message', () => {
    for (const message of recorded) {
      const zh = problemText(texts('zh'), WECOM_FAILURES, message);
      expect({ message, worded: zh !== message && /[\u4e00-\u9fff]/.test(zh) }).toEqual({ message, worded: true });
      expect(problemText(texts('en'), WECOM_FAILURES, message)).not.toMatch(/\{\{/);
    }
    expect(problemText(texts('zh'), WECOM_FAILURES, recorded[2])).toBe(
      '企业微信拒绝了请求（/cgi-bin/externalcontact/mark_tag，错误码 60011：no privilege to access/modify contact/party/agent）');
    expect(problemText(texts('zh'), WECOM_FAILURES, recorded[0])).toBe('无法连接企业微信（/cgi-bin/externalcontact/del_contact_way）');
  });

  it('leaves a failure it does not know as recorded', () => {
    expect(problemText(texts('zh'), WECOM_FAILURES, 'contact wmX not found')).toBe('contact wmX not found');
  });
});
