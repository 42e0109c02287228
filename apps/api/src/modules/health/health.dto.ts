import { ApiProperty } from '@nestjs/swagger';

export class LiveDto {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

export class CheckDto {
  @ApiProperty({ enum: ['up', 'down'] }) status: 'up' | 'down';
  @ApiProperty({ example: '17.6', description: 'up: the version or answer; down: what failed' }) detail: string;
  @ApiProperty({ description: 'How long the probe took' }) ms: number;
}

export class ReadinessChecksDto {
  @ApiProperty({ type: CheckDto }) postgres: CheckDto;
  @ApiProperty({ type: CheckDto }) temporal: CheckDto;
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ready', 'not ready'] }) status: 'ready' | 'not ready';
  @ApiProperty({ type: ReadinessChecksDto }) checks: ReadinessChecksDto;
}
