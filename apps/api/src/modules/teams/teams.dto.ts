import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateIf } from 'class-validator';

export class CreateTeamDto {
  @ApiProperty({ example: 'East China sales' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'A manager or admin of this organization' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsUUID()
  managerId?: string | null;
}

export class UpdateTeamDto extends PartialType(CreateTeamDto) {}

export class TeamDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiUuid({ nullable: true }) managerId: string | null;
  @ApiProperty({ description: 'Members who can sign in (disabled users are not counted)' }) memberCount: number;
  @ApiProperty() createdAt: Date;
}

export class TeamPageDto {
  @ApiProperty({ type: [TeamDto] }) items: TeamDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
