import { describe, expect, it } from "vitest";
import { chunkMarkdown, estimateTokens } from "../../src/workloads/ingest/chunk.js";
import { extractPage } from "../../src/workloads/ingest/extract.js";

const PAGE = `<!doctype html><html><head><title>Widgets — Example Docs</title>
<link rel="canonical" href="https://docs.example.com/widgets.html"><script>var tracking = 1;</script></head>
<body><nav>Home | Products | Navigation noise</nav><header>Site header</header>
<div role="main">
<section id="widgets"><h1>Widgets<a class="headerlink" href="#widgets">¶</a></h1>
<p>A widget is a small thing. Caf\u00e9 owners use the \ufb01ne widgets with \u201csmart quotes\u201d.</p>
<section id="configuring-widgets"><h2>Configuring widgets</h2>
<div class="highlight-python3"><pre>import widgets
widgets.configure(size=3)</pre></div>
<table><thead><tr><th>Option</th><th>Meaning</th></tr></thead>
<tbody><tr><td>size</td><td>how big</td></tr><tr><td>colour</td><td>which colour</td></tr></tbody></table>
</section></section></div>
<footer>Copyright footer</footer></body></html>`;

describe("extractPage", () => {
  const page = extractPage(PAGE);

  it("keeps the main content as Markdown and drops page furniture", () => {
    expect(page.title).toBe("Widgets");
    expect(page.canonical).toBe("https://docs.example.com/widgets.html");
    expect(page.markdown).not.toMatch(/Navigation noise|Site header|Copyright footer|tracking|¶/);
    expect(page.markdown).toContain("```python\nimport widgets\nwidgets.configure(size=3)\n```");
    expect(page.markdown).toMatch(/\| Option \| Meaning \|\n\| --- \| --- \|\n\| size \| how big \|/);
  });

  it("keeps Unicode (NFKC) and records heading anchors", () => {
    expect(page.markdown).toContain("Caf\u00e9 owners use the fine widgets with \u201csmart quotes\u201d");
    expect(page.markdown).toContain("## Configuring widgets {#configuring-widgets}");
  });

  it("never throws on junk input", () => {
    for (const junk of ["", "\u0000\u0001\ufffd binary", "<div><p>unclosed <b>tags", "<html><body></body></html>"]) {
      expect(() => extractPage(junk)).not.toThrow();
    }
  });
});

describe("chunkMarkdown", () => {
  const prose = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} explains one more detail.`).join(" ");
  const code = ["```python", ...Array.from({ length: 80 }, (_, i) => `value_${i} = compute(${i})`), "```"].join("\n");
  const table = ["| Key | Value |", "| --- | --- |", ...Array.from({ length: 80 }, (_, i) => `| k${i} | v${i} |`)].join(
    "\n",
  );
  const markdown = `Intro text.\n\n## Setup {#setup}\n\n${prose}\n\n### Code {#code}\n\n${code}\n\n## Table\n\n${table}`;
  const chunks = chunkMarkdown("Guide", markdown, { maxTokens: 100, overlap: 0.15 });

  it("splits by section with a context header and anchor", () => {
    expect(chunks[0]).toMatchObject({ section: "Guide", anchor: undefined, text: "Intro text." });
    const setup = chunks.filter((chunk) => chunk.section === "Guide \u203a Setup");
    expect(setup.length).toBeGreaterThan(1);
    expect(setup.every((chunk) => chunk.anchor === "setup")).toBe(true);
    expect(chunks.some((chunk) => chunk.section === "Guide \u203a Setup \u203a Code" && chunk.anchor === "code")).toBe(
      true,
    );
    // The Table section has no anchor of its own and does not inherit its sibling's.
    expect(chunks.filter((chunk) => chunk.section === "Guide \u203a Table").every((c) => c.anchor === undefined)).toBe(
      true,
    );
  });

  it("keeps identifiers whole in the context header: underscores stay, emphasis, code marks and escapes go", () => {
    const sections = chunkMarkdown(
      "argparse",
      "# argparse\n\n## The `add_argument()` method\n\nText.\n\n## **Bold** \\_\\_main\\_\\_\n\nMore.",
    ).map((chunk) => chunk.section);
    expect(sections).toEqual(["argparse \u203a The add_argument() method", "argparse \u203a Bold __main__"]);
  });

  it("cuts and overlaps prose only between sentences, never at a full stop inside a name or a link", () => {
    const sentence = (i: number) =>
      `Sentence ${i} calls os.path.join on version 3.11 and links [the index](../c-api/index.html#c-api-index) too.`;
    const prose = Array.from({ length: 40 }, (_, i) => sentence(i)).join(" ");
    const pieces = chunkMarkdown("Doc", `# Doc\n\n${prose}`, { maxTokens: 100, overlap: 0.3 });
    expect(pieces.length).toBeGreaterThan(5);
    for (const [i, piece] of pieces.entries()) {
      expect(piece.text).toMatch(/^Sentence \d+ calls/);
      expect(piece.text).toMatch(/too\.$/);
      // The overlap is the previous passage's last whole sentence.
      const last = pieces[i - 1]?.text.split(/(?<=too\.) /).at(-1);
      if (last) expect(piece.text.startsWith(last)).toBe(true);
    }
  });

  it("overlaps a sentence longer than the overlap from a word boundary outside links and code", () => {
    const long = (i: number) =>
      `Sentence ${i} ${"goes on and on ".repeat(12)}through [a long link label](../x.html#y) and \`code span\` to its end.`;
    const prose = Array.from({ length: 12 }, (_, i) => long(i)).join(" ");
    const pieces = chunkMarkdown("Doc", `# Doc\n\n${prose}`, { maxTokens: 100, overlap: 0.15 });
    const carried = pieces.slice(1).map((piece) => piece.text.slice(0, piece.text.indexOf("\n\nSentence ")));
    expect(carried.length).toBeGreaterThan(3);
    for (const [i, tail] of carried.entries()) {
      expect(pieces[i]?.text.endsWith(tail)).toBe(true);
      expect(tail).not.toMatch(/^[^[]*\]\(/); // not inside a link label
      expect((tail.match(/`/g) ?? []).length % 2).toBe(0); // not inside a code span
      expect(tail.length).toBeLessThanOrEqual(60);
    }
  });

  it("respects the budget, overlaps prose and keeps every fence closed and every table headed", () => {
    for (const chunk of chunks) {
      expect(estimateTokens(chunk.text)).toBeLessThanOrEqual(110);
      expect((chunk.text.match(/^```/gm) ?? []).length % 2).toBe(0);
      if (chunk.text.includes("| k")) expect(chunk.text.startsWith("| Key | Value |\n| --- | --- |")).toBe(true);
    }
    const setup = chunks.filter((chunk) => chunk.section === "Guide \u203a Setup");
    const lastSentence = setup[0]?.text.split(/(?<=\.)\s/).at(-1) ?? "missing";
    expect(setup[1]?.text.startsWith(lastSentence)).toBe(true);
    const codeLines = chunks.flatMap((chunk) => chunk.text.split("\n")).filter((line) => line.startsWith("value_"));
    expect(new Set(codeLines).size).toBe(80);
  });
});
