import { ApiProperty } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

const lower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export const PASSWORD_MIN = 10;

export class SignupDto {
  @ApiProperty({ example: 'Acme Retail' }) @IsString() @MinLength(1) @MaxLength(200)
  organization: string;

  @ApiProperty({ example: 'Li Na' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'li.na@acme.example' }) @Transform(lower) @IsEmail() @MaxLength(320)
  email: string;

  @ApiProperty({ minLength: PASSWORD_MIN }) @IsString() @MinLength(PASSWORD_MIN) @MaxLength(200)
  password: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ops@demo.example' }) @Transform(lower) @IsEmail()
  email: string;

  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200)
  password: string;
}

export class TokenDto {
  @ApiProperty({ description: 'JWT to send as "Authorization: Bearer <token>"' })
  accessToken: string;
}

export class MeDto {
  @ApiUuid() tenantId: string;
  @ApiProperty({ enum: ['admin', 'ops', 'manager', 'employee'] }) role: string;
  @ApiUuid({ nullable: true }) userId: string | null;
  @ApiUuid({ nullable: true }) apiKeyId: string | null;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty() organization: string;
}

export { lower };
