import { afterEach, describe, expect, it } from 'vitest';
import { formatWarning, setWarningSink, warningsDisabled, warnOnce } from '../src/index.js';

describe('warnOnce', () => {
  const saved = process.env.BG_NO_WARNINGS;
  afterEach(() => {
    setWarningSink(undefined);
    if (saved === undefined) delete process.env.BG_NO_WARNINGS;
    else process.env.BG_NO_WARNINGS = saved;
  });

  it('prints one line, once per key, to the sink', () => {
    delete process.env.BG_NO_WARNINGS;
    const lines: string[] = [];
    setWarningSink((line) => lines.push(line));
    warnOnce('test:once', 'first line\n  continues here');
    warnOnce('test:once', 'again');
    warnOnce('test:other', 'another');
    expect(lines, 'warnOnce output').toEqual(['bg warning: first line continues here', 'bg warning: another']);
  });

  it('BG_NO_WARNINGS turns warnings off', () => {
    process.env.BG_NO_WARNINGS = '1';
    const lines: string[] = [];
    setWarningSink((line) => lines.push(line));
    warnOnce('test:quiet', 'hidden');
    expect(lines).toEqual([]);
    expect(['1', 'yes', 'true'].map(warningsDisabled)).toEqual([true, true, true]);
    expect([undefined, '', '0', 'false'].map(warningsDisabled)).toEqual([false, false, false, false]);
  });

  it('formats on one line', () => {
    expect(formatWarning('a\nb')).toBe('bg warning: a b');
  });
});
