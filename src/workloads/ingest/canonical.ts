/** `<link rel="canonical">` resolved against the page URL, when it is http(s) (fragment dropped). */
export function extractCanonical(html: string, base: URL): string | undefined {
  const head = html.slice(0, 50_000);
  for (const match of head.matchAll(/<link\b[^>]*>/gi)) {
    const tag = match[0];
    if (!/\brel=["']?canonical["']?/i.test(tag)) continue;
    const href = /\bhref=["']([^"']+)["']/i.exec(tag)?.[1];
    if (!href) continue;
    try {
      const url = new URL(href, base);
      if (url.protocol === "http:" || url.protocol === "https:") return url.href.replace(/#.*$/, "");
    } catch {
      // An unparseable canonical is ignored; the requested URL stands.
    }
  }
  return undefined;
}
