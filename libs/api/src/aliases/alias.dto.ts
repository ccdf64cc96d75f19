import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsString, MaxLength } from 'class-validator';
import { Optional } from '../common/validators';

/** Monibuca's SetStreamAlias: an empty or absent streamPath removes the alias. */
export class SetAliasDto {
  @ApiProperty({ example: 'cam', description: 'The path players ask for' })
  @IsString()
  @MaxLength(256)
  alias!: string;

  @ApiPropertyOptional({ example: 'live/real', description: 'The stream they get; empty or absent removes the alias' })
  @Optional()
  @IsString()
  @MaxLength(256)
  streamPath?: string;

  @ApiPropertyOptional({ default: false, description: "Remove the alias when the target's stream closes" })
  @Optional()
  @IsBoolean()
  autoRemove?: boolean;
}

export class AliasDto {
  @ApiProperty({ example: 'cam' }) alias!: string;
  @ApiProperty({ example: 'live/real' }) streamPath!: string;
  @ApiProperty() autoRemove!: boolean;
  @ApiProperty({ description: 'The target has a publisher now' }) live!: boolean;
  @ApiProperty({ description: 'ms since the epoch' }) createdAt!: number;
}

export class AliasListDto {
  @ApiProperty({ type: [AliasDto] }) list!: AliasDto[];
}

export class SetAliasResultDto {
  @ApiProperty({ example: true }) success!: boolean;
  @ApiProperty({ enum: ['set', 'removed'] }) action!: 'set' | 'removed';
  @ApiPropertyOptional({ type: AliasDto }) alias?: AliasDto;
}
