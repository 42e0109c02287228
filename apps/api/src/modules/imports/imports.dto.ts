import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ApiUuid } from '../../common/openapi';

export class ImportRowErrorDto {
  @ApiProperty({ example: 7, description: 'Line of the file (the header is line 1)' }) row: number;
  @ApiProperty({ example: 'email' }) column: string;
  @ApiProperty({ example: 'is not an email address' }) reason: string;
}

/** An import without its row errors: what the list of recent imports shows. */
export class ImportSummaryDto {
  @ApiUuid() id: string;
  @ApiProperty({ enum: ['running', 'completed', 'failed'] }) status: 'running' | 'completed' | 'failed';
  @ApiProperty({ nullable: true, type: String, example: '双11客户名单.csv', description: 'The file\'s name, when the uploader gave it' })
  fileName: string | null;
  @ApiProperty({ description: 'Rows read so far (good and bad)' }) processedRows: number;
  @ApiProperty({ description: 'Rows written to contacts (new and updated)' }) importedRows: number;
  @ApiProperty({ description: 'Imported rows that made a new contact' }) createdRows: number;
  @ApiProperty({ description: 'Imported rows that updated an existing contact (same external_id)' }) updatedRows: number;
  @ApiProperty({ description: 'Rows not imported (each is listed in errors)' }) errorRows: number;
  @ApiProperty({ nullable: true, type: String, description: 'Why a failed import stopped' }) message: string | null;
  @ApiUuid({ nullable: true, description: 'Who uploaded it (none for an API key)' }) createdBy: string | null;
  @ApiProperty({ nullable: true, type: String, example: '运营 小周' }) createdByName: string | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) finishedAt: Date | null;
}

export class ImportDto extends ImportSummaryDto {
  @ApiProperty({ type: [ImportRowErrorDto], description: 'The first 1,000 bad rows, with why' }) errors: ImportRowErrorDto[];
}

export class ImportQuery {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Choose the import\'s id to read its progress (GET /api/imports/{id}) while the upload runs; ' +
      'it answers 404 until the first row is read. A used id is refused (409).',
  })
  @IsOptional() @IsUUID()
  id?: string;

  @ApiPropertyOptional({ example: '双11客户名单.csv', description: 'The file\'s name, shown in the list of imports' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(255)
  fileName?: string;
}

export class RecentImportsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit: number = 20;
}
