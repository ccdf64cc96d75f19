/** Checks that `fn` throws an instance of `type` (and, when given, with that `code`). For specs of every lib. */
export function expectErrorCode(fn: () => unknown, type: abstract new (...args: never[]) => Error & { code: string }, code?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(type);
  if (code) expect((thrown as { code: string }).code).toBe(code);
}
