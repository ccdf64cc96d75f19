import { registerDecorator, ValidateIf, ValidationOptions } from 'class-validator';

// Control characters (NUL breaks PostgreSQL text; the others have no place in a name or URL).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A string without control characters (names, descriptions, URLs). */
export function NoControlChars(options?: ValidationOptions): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'noControlChars',
      target: target.constructor,
      propertyName: key as string,
      options: { message: `${String(key)} must not contain control characters`, ...options },
      validator: { validate: (v: unknown) => typeof v === 'string' && !CONTROL.test(v) },
    });
}

/** An absolute URL with a host and one of `schemes` (rtsp, rtmp...). */
export function IsMediaUrl(schemes: readonly string[], options?: ValidationOptions): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isMediaUrl',
      target: target.constructor,
      propertyName: key as string,
      options: { message: `${String(key)} must be a URL with a host and one of the schemes ${schemes.map((s) => s + '://').join(', ')}`, ...options },
      validator: {
        validate(v: unknown) {
          if (typeof v !== 'string' || CONTROL.test(v) || /\s/.test(v)) return false;
          try {
            const url = new URL(v);
            return schemes.includes(url.protocol.slice(0, -1)) && url.hostname !== '';
          } catch {
            return false;
          }
        },
      },
    });
}

/**
 * An optional field that may be left out but not sent as null (IsOptional lets null through, which a
 * NOT NULL column would then refuse with a server error).
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}
