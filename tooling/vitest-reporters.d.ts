/** Vitest reporters: default plus a JSON report in .reports/<name>.json. */
export declare function reporters(name: string): any[];
