import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { ROLES, type Role } from '@sop/domain';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateIf } from 'class-validator';
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
  @ApiProperty() id: string;
  @ApiProperty() email: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ nullable: true, type: String }) teamId: string | null;
  @ApiProperty() disabled: boolean;
  @ApiProperty() createdAt: Date;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
