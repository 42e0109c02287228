import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { ROLES, type Role } from '@sop/domain';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { lower, PASSWORD_MIN } from '../auth/auth.dto';

export class CreateUserDto {
  @ApiProperty({ example: 'wang.fang@acme.example' }) @Transform(lower) @IsEmail() @MaxLength(320)
  email: string;

  @ApiProperty({ example: 'Wang Fang' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiProperty({ enum: ROLES }) @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsUUID()
  teamId?: string | null;

  @ApiProperty({ minLength: PASSWORD_MIN, description: 'Initial password; the user should change it' })
  @IsString() @MinLength(PASSWORD_MIN) @MaxLength(200)
  password: string;
}

export class UpdateUserDto extends PartialType(CreateUserDto) {
  @ApiPropertyOptional({ description: 'true disables login; false enables it again' })
  @IsOptional() @IsBoolean()
  disabled?: boolean;
}

export class UserDto {
  @ApiUuid() id: string;
  @ApiProperty() email: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiUuid({ nullable: true }) teamId: string | null;
  @ApiProperty() disabled: boolean;
  @ApiProperty() createdAt: Date;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** The directory's filters: pickers search it by name or email, a team's members, one role, active (or disabled) people only. */
export class UserListQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: 'Part of a name or email' }) @IsOptional() @IsString() @MaxLength(100)
  q?: string;

  @ApiPropertyOptional({ description: 'true: only users who can sign in; false: only disabled users; absent: both' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  active?: boolean;
}
