import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export class CalendarRangeQuery {
  @ApiProperty({ format: 'date', example: '2026-10-01' }) @Matches(ISO_DATE, { message: 'must be a date as YYYY-MM-DD' })
  from: string;

  @ApiProperty({ format: 'date', example: '2026-10-31', description: 'inclusive; at most 366 days after from' }) @Matches(ISO_DATE, { message: 'must be a date as YYYY-MM-DD' })
  to: string;
}

export class SetCalendarDayDto {
  @ApiProperty({ description: 'false: a holiday or closure; true: a working day (e.g. a make-up Saturday)' }) @IsBoolean()
  working: boolean;

  @ApiPropertyOptional({ example: 'Store anniversary 店庆' }) @IsOptional() @IsString() @MaxLength(100)
  name?: string;
}

export class CalendarDayDto {
  @ApiProperty({ format: 'date', example: '2026-10-10' }) date: string;
  @ApiProperty() working: boolean;
  @ApiProperty({ example: 'National Day / 国庆节' }) name: string;
  @ApiProperty({
    enum: ['tenant', 'cn', 'cn-statutory', 'weekend-rule'],
    description: 'tenant: your entry; cn: the published mainland-China schedule (2004-2026); cn-statutory: a later year, with the '
      + 'statutory holidays worked out from the law (make-up working days are published each year: enter them yourself)',
  })
  source: string;
}

