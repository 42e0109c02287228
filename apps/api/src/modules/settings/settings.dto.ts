import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';

export class ContactCapsDto {
  @ApiProperty({ nullable: true, type: Number, example: 1, description: 'Tasks per contact per day across all SOPs; null: no cap' })
  @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(100)
  perDay: number | null;

  @ApiProperty({ nullable: true, type: Number, example: 3, description: 'Tasks per contact per ISO week across all SOPs; null: no cap' })
  @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(500)
  perWeek: number | null;
}
