import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** ?pageNum=1&pageSize=50 (Monibuca's names). */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  pageNum?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  pageSize?: number;
}

export interface Page<T> {
  total: number;
  pageNum: number;
  pageSize: number;
  list: T[];
}

/** One page of `items` (pageNum from 1). */
export function paginate<T>(items: readonly T[], query: PageQueryDto = {}): Page<T> {
  const pageNum = query.pageNum ?? 1;
  const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
  return { total: items.length, pageNum, pageSize, list: items.slice((pageNum - 1) * pageSize, pageNum * pageSize) };
}

export class PageDto {
  @ApiProperty() total!: number;
  @ApiProperty() pageNum!: number;
  @ApiProperty() pageSize!: number;
}

export class SuccessDto {
  @ApiProperty({ example: true }) success!: boolean;
}
