/**
 * Reading the Markdown the extractors write as text: its escapes and its links. One definition for the chunker's
 * context headers, the lexical index, the hub-page test and the prompt (the chat page's render.js, which runs in
 * the browser, keeps its own copy of the two patterns).
 */

// A backslash before ASCII punctuation is a Markdown escape (CommonMark 2.4): `pg\_dump` is `pg_dump`.
const MARKDOWN_ESCAPE = /\\([!-/:-@[-`{-~])/g;

/** A Markdown link or image, `[label](destination "title")` with the destination maybe in `<>`; group 1 is the label. */
export const MARKDOWN_LINK =
  /!?\[([^\]\n]*)\]\((?:<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+"(?:[^"\\]|\\.)*")?\)/g;

export function unescapeMarkdown(text: string): string {
  return text.includes("\\") ? text.replace(MARKDOWN_ESCAPE, "$1") : text;
}

/** Every link and image reduced to its label. */
export function linkLabels(markdown: string): string {
  return markdown.includes("](") ? markdown.replace(MARKDOWN_LINK, "$1") : markdown;
}
