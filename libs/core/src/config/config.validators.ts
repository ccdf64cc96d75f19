import { Transform } from 'class-transformer';
import { registerDecorator, ValidationOptions } from 'class-validator';
import { parseByteSize, parseDuration, parseListen } from './duration';

/**
 * Config durations are written "10s", "500ms" or as seconds, and held as milliseconds after loading.
 * An unparsable value is kept as written so the validation message can quote it.
 */
export function Duration(): PropertyDecorator {
  const toMs = Transform(({ value }) => {
    const ms = parseDuration(value);
    return Number.isNaN(ms) ? value : ms;
  });
  return (target, key) => {
    toMs(target, key);
    registerDecorator({
      name: 'isDuration',
      target: target.constructor,
      propertyName: key as string,
      options: { message: 'must be a duration such as 500ms, 10s, 1m or a number of seconds' },
      validator: { validate: (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 },
    });
  };
}

/** Byte sizes written "1mb", "64kb" or as a number of bytes. */
export function ByteSize(): PropertyDecorator {
  const toBytes = Transform(({ value }) => {
    const n = parseByteSize(value);
    return Number.isNaN(n) ? value : n;
  });
  return (target, key) => {
    toBytes(target, key);
    registerDecorator({
      name: 'isByteSize',
      target: target.constructor,
      propertyName: key as string,
      options: { message: 'must be a size such as 512kb, 1mb or a number of bytes' },
      validator: { validate: (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 },
    });
  };
}

/** A listen address ":1935", "127.0.0.1:1935", "[::]:1935"; an empty string disables the listener. */
export function IsListen(options?: ValidationOptions): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isListen',
      target: target.constructor,
      propertyName: key as string,
      options: { message: 'must be a listen address such as :1935 or 127.0.0.1:1935 (empty disables it)', ...options },
      validator: {
        validate(v: unknown) {
          if (v === '') return true;
          if (typeof v !== 'string') return false;
          try {
            parseListen(v);
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}
