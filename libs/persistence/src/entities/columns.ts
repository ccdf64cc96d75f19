import { ValueTransformer } from 'typeorm';

/** bigint columns come back as strings from PostgreSQL and MySQL; times and sizes here fit a JS number. */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};
