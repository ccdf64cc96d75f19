import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError } from '@m7s/core';

const TYPE_CONSTRAINTS = new Set(['isString', 'isInt', 'isNumber', 'isBoolean', 'isObject', 'isArray', 'isIn', 'isEnum', 'whitelistValidation', 'unknownValue']);

export interface FieldProblem {
  field: string;
  problems: string[];
}

function collect(errors: ValidationError[], prefix: string, into: FieldProblem[]): void {
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    // A value of the wrong type fails every rule of its field: its type is then the one thing worth saying.
    const typeProblems = Object.entries(constraints).filter(([name]) => TYPE_CONSTRAINTS.has(name));
    const problems = (typeProblems.length ? typeProblems : Object.entries(constraints)).map(([, message]) => message);
    if (problems.length) into.push({ field, problems });
    collect(error.children ?? [], field, into);
  }
}

/** Validation failures as INVALID_ARGUMENT: a readable message and the problems per field. */
export function validationError(errors: ValidationError[]): AppError {
  const fields: FieldProblem[] = [];
  collect(errors, '', fields);
  const message = fields.length ? fields.map((f) => f.problems.join(', ')).join('; ') : 'invalid request';
  return new AppError('INVALID_ARGUMENT', message, { fields });
}

/** Unknown fields refused, known ones converted to their declared types, failures as INVALID_ARGUMENT. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: validationError,
  });
}
