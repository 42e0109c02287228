import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';

export class StartRoundTripDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Choose the id to make a retried request safe: the same id answers the same round trip' })
  @IsOptional() @IsUUID()
  id?: string;
}

export class RoundTripDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['pending', 'completed'] }) status: string;
  @ApiProperty() workflowId: string;
  @ApiProperty({ nullable: true, type: String }) workerIdentity: string | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) completedAt: Date | null;
}
