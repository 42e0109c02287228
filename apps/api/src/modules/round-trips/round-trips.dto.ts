import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { IsUUID, ValidateIf } from 'class-validator';

export class StartRoundTripDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Choose the id to make a retried request safe: the same id answers the same round trip' })
  // absent means "make one"; null is not an id (IsOptional would let it through to the database)
  @ValidateIf((_, v) => v !== undefined) @IsUUID()
  id?: string;
}

export class RoundTripDto {
  @ApiUuid() id: string;
  @ApiProperty({ enum: ['pending', 'completed'] }) status: string;
  @ApiProperty() workflowId: string;
  @ApiProperty({ nullable: true, type: String }) workerIdentity: string | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) completedAt: Date | null;
}
