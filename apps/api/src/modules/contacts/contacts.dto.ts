import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { ApiFreeObject, ApiUuid } from '../../common/openapi';
import { Transform, Type } from 'class-transformer';
import { PageQuery } from '../../common/pagination';
import { IsAmount, IsTimeZone } from '../../common/validation';
import {
  ArrayMaxSize, IsArray, IsDate, IsEmail, IsInt, IsObject, IsOptional, IsString, IsUUID, Matches, Max, MaxLength,
  Min, MinLength, registerDecorator, ValidateIf, type ValidationOptions,
} from 'class-validator';

export const ATTRIBUTE_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_ATTRIBUTES = 100;

function isAttributeValue(v: unknown): boolean {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return typeof v !== 'string' || v.length <= 2000;
  return Array.isArray(v) && v.length <= 100 && v.every((x) => typeof x === 'string' || typeof x === 'number');
}

/** Attributes: a flat object; keys are short identifiers; values are scalars or short lists. */
function IsAttributes(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isAttributes', target: object.constructor, propertyName, options,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' && value !== null && !Array.isArray(value) &&
          Object.keys(value).length <= MAX_ATTRIBUTES &&
          Object.entries(value).every(([k, v]) => ATTRIBUTE_KEY.test(k) && isAttributeValue(v)),
        defaultMessage: () =>
          `must be an object of at most ${MAX_ATTRIBUTES} keys matching ${ATTRIBUTE_KEY} with string, number, boolean, null or list values`,
      },
    });
}

/** Dates a customer's history can hold; outside them Postgres or the engine's calendar code would fail. */
const EARLIEST = new Date('1900-01-01T00:00:00Z');
const LATEST = new Date('2200-01-01T00:00:00Z');

const nullableDate = () => (target: object, key: string) => {
  IsOptional()(target, key);
  ValidateIf((_, v) => v !== null)(target, key);
  Type(() => Date)(target, key);
  IsDate()(target, key);
  registerDecorator({
    name: 'dateInRange', target: target.constructor, propertyName: key,
    // an invalid date is IsDate's to name; this names only a real date out of range
    validator: { validate: (v) => !(v instanceof Date) || Number.isNaN(v.getTime()) || (v >= EARLIEST && v < LATEST), defaultMessage: () => 'must be between 1900-01-01 and 2200-01-01' },
  });
};

export class CreateContactDto {
  @ApiProperty({ example: 'wx_8812', description: 'Your id for this customer; unique in your organization' })
  @IsString() @MinLength(1) @MaxLength(200) @Matches(/^\S(.*\S)?$/, { message: 'must not start or end with spaces' })
  externalId: string;

  @ApiPropertyOptional({ example: '陈静 Chen Jing' }) @IsOptional() @IsString() @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ example: '+86 138 0000 0000' }) @IsOptional() @IsString() @MaxLength(50)
  phone?: string;

  @ApiPropertyOptional() @IsOptional() @IsEmail() @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'The employee who owns this customer' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsUUID()
  ownerId?: string | null;

  @ApiPropertyOptional({ example: 'Asia/Shanghai' }) @IsOptional() @IsTimeZone()
  timezone?: string;

  @ApiFreeObject({ required: false, example: { gender: 'female', region: 'Shanghai', ageBand: '25-34' } })
  @IsOptional() @IsObject() @IsAttributes()
  attributes?: Record<string, unknown>;

  @ApiPropertyOptional({ minimum: 0 }) @IsOptional() @IsInt() @Min(0) @Max(1_000_000)
  orderCount?: number;

  @ApiPropertyOptional() @IsOptional() @IsAmount() @Min(0) @Max(1e11)
  totalSpend?: number;

  @ApiPropertyOptional({ description: 'Spend in the last 30 days' }) @IsOptional() @IsAmount() @Min(0) @Max(1e11)
  spend30d?: number;

  @ApiPropertyOptional({ nullable: true, type: Date }) @nullableDate() lastOrderAt?: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) @nullableDate() lastContactedAt?: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) @nullableDate() lastRespondedAt?: Date | null;

  @ApiPropertyOptional({ type: [String], description: 'Tag ids to apply' })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsUUID('all', { each: true })
  tags?: string[];
}

export class UpdateContactDto extends PartialType(OmitType(CreateContactDto, ['tags'] as const)) {}

export class ContactTagDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiUuid() groupId: string;
  @ApiProperty() color: string;
  @ApiProperty({ nullable: true, type: Number }) weight: number | null;
}

export class ContactDto {
  @ApiUuid() id: string;
  @ApiProperty() externalId: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) phone: string | null;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiUuid({ nullable: true }) ownerId: string | null;
  @ApiProperty() timezone: string;
  @ApiFreeObject() attributes: Record<string, unknown>;
  @ApiProperty() orderCount: number;
  @ApiProperty() totalSpend: number;
  @ApiProperty() spend30d: number;
  @ApiProperty({ nullable: true, type: Date }) lastOrderAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) lastContactedAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) lastRespondedAt: Date | null;
  @ApiProperty({ type: [ContactTagDto] }) tags: ContactTagDto[];
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}

export class ContactPageDto {
  @ApiProperty({ type: [ContactDto] }) items: ContactDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class TimelineEntryDto {
  @ApiProperty({ description: 'tag.added, tag.removed, or response.<kind> (response.replied, response.opened, response.outcome, …)' })
  type: string;
  @ApiProperty() at: Date;
  @ApiFreeObject({
    description: 'tag.*: tagId, tag, by, actorId, reason; response.*: responseId, source and, when known, outcome, name, amount, taskId, '
      + 'sopId, stepIndex, material, eventId, data',
  })
  detail: Record<string, unknown>;
}

export class ContactQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'externalId, phone, or part of the name' }) @IsOptional() @IsString() @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ description: 'Only contacts holding every one of these tags (ids, comma separated)', example: 'uuid,uuid' })
  @IsOptional() @Transform(({ value }) => (typeof value === 'string' ? value.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean) : value))
  @IsArray() @ArrayMaxSize(20) @IsUUID('all', { each: true })
  tagIds?: string[];

  @ApiPropertyOptional({ format: 'uuid', description: "Only this employee's contacts" }) @IsOptional() @IsUUID()
  ownerId?: string;
}
