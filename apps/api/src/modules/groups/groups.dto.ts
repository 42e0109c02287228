import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { ArrayMaxSize, IsArray, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateIf } from 'class-validator';

export class CreateGroupDto {
  @ApiProperty({ example: 'VIP 群 1' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'The employee who runs the group chat' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsUUID()
  ownerId?: string | null;
}

export class UpdateGroupDto extends PartialType(CreateGroupDto) {}

export class GroupMembersDto {
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(5000) @IsUUID('all', { each: true })
  add?: string[];

  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(5000) @IsUUID('all', { each: true })
  remove?: string[];
}

export class GroupDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiUuid({ nullable: true }) ownerId: string | null;
  @ApiProperty() memberCount: number;
  @ApiProperty() createdAt: Date;
}

export class GroupPageDto {
  @ApiProperty({ type: [GroupDto] }) items: GroupDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
