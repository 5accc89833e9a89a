/**
 * A Standard Schema that accepts any value as a `T` without checking it: the tests' and benches'
 * jobs, whose payloads they make themselves (a real schema would be measured along).
 */
export function passThrough<T>(vendor: string): {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly types: { readonly input: T; readonly output: T };
    readonly validate: (value: unknown) => { readonly value: T };
  };
} {
  return {
    '~standard': {
      version: 1,
      vendor,
      types: undefined as unknown as { input: T; output: T },
      validate: (value: unknown) => ({ value: value as T }),
    },
  };
}
