import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { IsAmount } from '../../common/validation';
import { RESPONSE_KINDS, type ResponseKind, TASK_OUTCOMES, type TaskOutcome } from '@sop/domain';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength,
  ValidateNested,
} from 'class-validator';

const Lower = () => Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value));
const LowerEach = () => Transform(({ value }) => (Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)) : value));

/** When a response matches: its kind, and every other condition that is set. */
export class ResponseRuleWhenDto {
  @ApiProperty({ enum: RESPONSE_KINDS, description: 'outcome: an executor\'s outcome; opened: a tracked link; the rest come from the events API' })
  @IsIn(RESPONSE_KINDS)
  kind: ResponseKind;

  @ApiPropertyOptional({ enum: TASK_OUTCOMES, description: 'kind outcome only' }) @IsOptional() @IsIn(TASK_OUTCOMES)
  outcome?: TaskOutcome;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only responses to this SOP\'s tasks (outcomes, opened links)' })
  @IsOptional() @IsUUID() @Lower()
  sopId?: string;

  @ApiPropertyOptional({ description: 'Only this step of the SOP (0 is the first); needs sopId' }) @IsOptional() @IsInt() @Min(0) @Max(19)
  stepIndex?: number;

  @ApiPropertyOptional({ example: 'Coupon 优惠券', description: 'kind opened only: the material\'s title' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  material?: string;

  @ApiPropertyOptional({ example: 'coupon.redeemed', description: 'kind custom only: the event\'s name' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(100)
  eventName?: string;

  @ApiPropertyOptional({ example: 500, description: 'kind bought only: the purchase amount is at least this' })
  @IsOptional() @IsAmount() @Min(0) @Max(999_999_999_999)
  minAmount?: number;
}

/** What a matching response does to the contact's tags (an exclusive group keeps only the new tag). */
export class ResponseRuleThenDto {
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Tags to add' })
  @IsOptional() @IsArray() @ArrayMaxSize(20) @IsUUID('all', { each: true }) @LowerEach()
  addTagIds?: string[];

  @ApiPropertyOptional({ example: 80, description: 'Weight (interest or intent score) of the added tags; the tag\'s own weight otherwise' })
  @IsOptional() @IsAmount() @Min(-999_999) @Max(999_999)
  weight?: number;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Tags to remove' })
  @IsOptional() @IsArray() @ArrayMaxSize(20) @IsUUID('all', { each: true }) @LowerEach()
  removeTagIds?: string[];
}

export class SaveResponseRuleDto {
  @ApiProperty({ example: 'Interested in Product B 对B产品感兴趣' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean()
  enabled?: boolean;

  @ApiProperty({ type: ResponseRuleWhenDto }) @IsDefined() @ValidateNested() @Type(() => ResponseRuleWhenDto)
  when: ResponseRuleWhenDto;

  @ApiProperty({ type: ResponseRuleThenDto }) @IsDefined() @ValidateNested() @Type(() => ResponseRuleThenDto)
  then: ResponseRuleThenDto;
}

export class ResponseRuleDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: ResponseRuleWhenDto }) when: ResponseRuleWhenDto;
  @ApiProperty({ type: ResponseRuleThenDto }) then: ResponseRuleThenDto;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}
