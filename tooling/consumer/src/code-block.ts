/**
 * The body of the first fenced code block in `lang` after the heading `heading` (an exact
 * line such as `## Quickstart`) of a Markdown document, or undefined when there is none
 * before the next heading of the same or a higher level.
 */
export function codeBlockAfter(markdown: string, heading: string, lang: string): string | undefined {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading.trim());
  if (start < 0) return undefined;
  const level = /^#+/.exec(heading.trim())?.[0].length ?? 0;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const h = /^(#+)\s/.exec(line);
    if (h && (h[1]?.length ?? 0) <= level) return undefined;
    if (line.trim() === `\`\`\`${lang}`) {
      const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
      if (end < 0) return undefined;
      return `${lines.slice(i + 1, end).join('\n')}\n`;
    }
  }
  return undefined;
}
