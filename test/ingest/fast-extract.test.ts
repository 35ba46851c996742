import { describe, expect, it } from "vitest";
import { extractPage } from "../../src/workloads/ingest/extract.js";
import { extractPageDom } from "../../src/workloads/ingest/extract-dom.js";

// The fast extractor (htmlparser2 tree + turndown port) must write what linkedom + turndown write for pages with
// a content root. Each fixture stresses one part of turndown's algorithm; bench/ingest/compare-extract.mjs runs
// the same comparison over a whole corpus.
const filler = "This paragraph is filler text so the content root has enough characters to qualify. ".repeat(3);
const wrap = (body: string, head = "<title>Fixture — Docs</title>") =>
  `<!doctype html><html><head>${head}</head><body><nav><a href="/">Home</a></nav><div role="main"><p>${filler}</p>${body}</div></body></html>`;

const FIXTURES: Record<string, string> = {
  sphinx: `<!doctype html><html><head><title>Widgets — Example Docs</title>
<link rel="canonical" href="https://docs.example.com/widgets.html"></head>
<body><div class="related" role="navigation"><ul><li><a href="x.html">next</a></li></ul></div>
<div class="document"><div class="body" role="main">
<section id="widgets"><h1>Widgets<a class="headerlink" href="#widgets">¶</a></h1>
<p>A widget is a <em>small</em> thing with <strong>strong</strong> and <code class="docutils literal"><span class="pre">code_name</span></code>.
See <a class="reference internal" href="other.html#x" title="Other page">the other page</a> for ${filler}</p>
<dl class="py function"><dt class="sig sig-object py" id="widgets.make"><span class="sig-name descname">make</span>(<em class="sig-param">size</em>)</dt>
<dd><p>Makes a widget of <em>size</em>.</p></dd></dl>
<div class="highlight-python3 notranslate"><div class="highlight"><pre><span></span><span class="kn">import</span> widgets
&gt;&gt;&gt; widgets.make(3)   # comment
</pre></div></div>
<section id="tables"><h2>Tables</h2>
<table class="docutils"><thead><tr><th class="head"><p>Option</p></th><th align="right">Meaning</th></tr></thead>
<tbody><tr><td><p>size</p></td><td>how <em>big</em> | pipes</td></tr></tbody></table>
<table><tr><td>no</td><td>heading row</td></tr></table>
</section></section></div></div>
<div class="footer">© Copyright</div></body></html>`,
  lists: wrap(`<ul><li>one</li><li><p>two para</p><ul><li>nested <b>bold</b></li></ul></li></ul>
<ol start="3"><li>third</li><li>fourth
<ol><li>inner</li></ol></li></ol><ul>
  <li>  spaced   item  </li>
</ul>`),
  inline:
    wrap(`<p>Text<em> leading</em>and<strong>trailing </strong>text, <i>  </i>blank, a\u00a0<b>\u00a0nbsp\u00a0</b> b.</p>
<p>Line<br>break and <img src="a b.png" alt="an *image*" title="T"> and <code>x \`y\` z</code> and <a href="">no href</a>.</p>
<p><span> </span><a href="#a">  anchored  </a> <del>gone</del> <s>strike</s></p>`),
  escapes: wrap(`<p>- not a list</p><p>1. not ordered</p><p># not heading</p><p>+ plus</p><p>=== eq</p>
<p>&gt; quote-like [brackets] _under_ *star* back\\slash ~~~ tilde \`tick\`</p><blockquote><p>real</p><p>quote</p></blockquote><hr>`),
  code: wrap(`<pre><code class="language-js">const a = 1;
\`\`\`
inner fence</code></pre><pre>bare <b>pre</b>

</pre><div class="highlight-source-ruby"><pre>puts 1</pre></div><pre><span>x</span><code>y</code></pre>`),
  headings: wrap(`<div id="sec-a"><h2>First <a href="#sec-a">¶</a></h2><p>a</p><h3>Second</h3></div>
<span id="marker"></span><h3>Marked</h3><h4><a href="#by-link">By link</a></h4><h5 id="own">Own id</h5><h6>   </h6>`),
  whitespace: wrap(`<div>
    <p>
      Indented
      text   with    runs
    </p>
    <!-- a comment -->
    <span>inline</span>   <span>neighbours</span>
  </div><p>a &amp; b &lt;c&gt; caf\u00e9 \ufb01ne</p>`),
  brokenTable: wrap("<table></table><p>after</p>"),
  textInRow: wrap("<table><thead><tr><th>a</th>stray<th>b</th></tr></thead></table>"),
  noTitleTag: `<html><body><main><h1>Main heading</h1><p>${filler}</p></main></body></html>`,
  fragment: `<main><p>${filler}</p><p>fragment without html tag</p></main>`,
};

describe("fast extractor", () => {
  for (const [name, html] of Object.entries(FIXTURES)) {
    it(`writes what linkedom + turndown write: ${name}`, () => {
      expect(extractPage(html)).toEqual(extractPageDom(html));
    });
  }

  it("keeps the page's structure in Markdown", () => {
    const page = extractPage(FIXTURES.sphinx ?? "");
    expect(page.title).toBe("Widgets");
    expect(page.canonical).toBe("https://docs.example.com/widgets.html");
    expect(page.markdown).toContain("# Widgets {#widgets}");
    expect(page.markdown).toContain("## Tables {#tables}");
    expect(page.markdown).toContain("```python\nimport widgets\n>>> widgets.make(3)   # comment\n```");
    // Cells holding a <p> stay on their row (turndown's GFM rule broke the row over several lines); a pipe in a
    // cell is escaped; the heading row and alignment stay.
    expect(page.markdown).toContain("| Option | Meaning |\n| --- | --: |\n| size | how *big* \\| pipes |\n");
    expect(page.markdown).toContain("|  |  |\n| --- | --- |\n| no | heading row |");
    expect(page.markdown).not.toMatch(/next|© Copyright|¶/);
  });
});

describe("Readability fallback", () => {
  const sidebar = Array.from({ length: 25 }, (_, i) => `<li><a href="/post-${i}">Older post number ${i}</a></li>`).join(
    "",
  );
  const paragraphs = Array.from(
    { length: 6 },
    (_, i) =>
      `<p>Paragraph ${i} of the article explains, in some detail, how sourdough fermentation works, why the starter needs feeding, and what temperature does to the rise of the dough.</p>`,
  ).join("\n");
  const blog = `<!doctype html><html><head><title>Baking with sourdough | My Blog</title></head><body>
<div class="wrapper"><div class="top">My Blog · Home · About · Contact</div>
<div class="post"><h1>Baking with sourdough</h1><div class="meta">Posted in Bread</div>
${paragraphs}
<div class="highlight-python"><pre>feed(starter, flour=100, water=100)</pre></div></div>
<div class="links"><h3>Archive</h3><ul>${sidebar}</ul></div>
<div class="sharing"><a href="/share/tw">Share</a> <a href="/share/fb">Share</a></div></div></body></html>`;

  it("finds the article on a page without a known container and leaves the link sidebar out", () => {
    const page = extractPage(blog);
    expect(page.title).toBe("Baking with sourdough");
    expect(page.markdown).toContain("Paragraph 5 of the article explains");
    expect(page.markdown).toContain("```python\nfeed(starter, flour=100, water=100)\n```");
    expect(page.markdown).not.toMatch(/Older post number|Archive|Share/);
    // The whole-body conversion it replaces keeps all of that furniture.
    expect(extractPageDom(blog).markdown).toMatch(/Older post number 24/);
  });

  it("prefers a short known container to Readability's guess", () => {
    const page = extractPage(
      `<html><head><title>Tiny — Docs</title></head><body><div role="main"><h1>Tiny</h1><p>Only a line.</p></div><div class="footer">${filler}</div></body></html>`,
    );
    expect(page.markdown).toBe("# Tiny\n\nOnly a line.");
  });

  it("falls back to the whole page when Readability finds nothing", () => {
    expect(extractPage("<p>just a line</p>").markdown).toBe("just a line");
    for (const junk of ["", "\u0000\u0001\ufffd binary", "<div><p>unclosed <b>tags", "<html><body></body></html>"]) {
      expect(() => extractPage(junk)).not.toThrow();
    }
  });
});

describe("tables", () => {
  it("keeps every row of a table on one line whatever its cells hold", () => {
    const html = wrap(`<table><thead><tr><th><p>Name</p></th><th>Notes</th></tr></thead><tbody>
<tr><td><p>first</p><p>second paragraph</p></td><td><ul><li>one</li><li>two</li></ul></td></tr>
<tr><td><pre>code
block</pre></td><td>a | b</td></tr></tbody></table>`);
    const page = extractPage(html);
    const rows = page.markdown.split("\n").filter((line) => line.startsWith("|"));
    expect(rows).toEqual([
      "| Name | Notes |",
      "| --- | --- |",
      "| first second paragraph | - one - two |",
      "| `code block` | a \\| b |",
    ]);
    expect(page.markdown.split("\n").filter((line) => line.includes("|") && !line.startsWith("|"))).toEqual([]);
    expect(page).toEqual(extractPageDom(html));
  });
});

describe("tables without a heading row", () => {
  it("writes them as GFM with an empty heading row, not as raw HTML, in both extractors", () => {
    const html = wrap(`<table class="docutils"><colgroup><col style="width: 50%"></colgroup><tbody>
<tr class="row-odd"><td><p><a href="asyncio-runner.html#asyncio.run"><code>run()</code></a></p></td><td><p>Create event loop.</p></td></tr>
<tr class="row-even"><td><p><code>Runner</code></p></td><td><p>A context manager.</p><table><tr><td>nested</td></tr></table></td></tr>
</tbody></table>`);
    const page = extractPage(html);
    const rows = page.markdown.split("\n").filter((line) => line.startsWith("|"));
    expect(rows.slice(0, 3)).toEqual([
      "|  |  |",
      "| --- | --- |",
      "| [`run()`](asyncio-runner.html#asyncio.run) | Create event loop. |",
    ]);
    expect(rows[3]).toMatch(/^\| `Runner` \| A context manager\./);
    expect(page.markdown).not.toMatch(/<(table|td|tr|colgroup)\b/);
    expect(page).toEqual(extractPageDom(html));
  });
});

describe("underscores", () => {
  it("leaves an underscore inside a word unescaped and escapes one at a word's edge, in both extractors", () => {
    const html = wrap("<p>Run pg_dump or snake_case_name, then define __init__ and _private.</p>");
    const page = extractPage(html);
    expect(page.markdown).toContain("Run pg_dump or snake_case_name, then define \\_\\_init\\_\\_ and \\_private.");
    expect(page).toEqual(extractPageDom(html));
  });
});

describe("DocBook XSL pages (PostgreSQL and many GNU manuals)", () => {
  // The shape DocBook XSL writes for a chunked reference page: navigation tables around a div classed after the
  // DocBook element. Readability took such pages for a blog and kept only the longest block of prose, so the
  // synopsis and description of a reference page were lost.
  const options = Array.from(
    { length: 12 },
    (_, i) =>
      `<dt><span class="term"><code class="literal">OPTION_${i}</code></span></dt><dd><p>Option ${i} changes how the command behaves in a long and detailed way that Readability prefers to anything short.</p></dd>`,
  ).join("");
  const page = `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head><title>FROB TABLE</title><meta name="generator" content="DocBook XSL Stylesheets Vsnapshot" /></head>
<body><div class="navheader"><table width="100%" summary="Navigation header"><tr><td><a accesskey="p" href="prev.html">Prev</a></td><th>SQL Commands</th><td><a accesskey="n" href="next.html">Next</a></td></tr></table><hr /></div>
<div class="refentry" id="SQL-FROBTABLE"><div class="refnamediv"><h2><span class="refentrytitle">FROB TABLE</span></h2><p>FROB TABLE — frobnicate a table</p></div>
<div class="refsynopsisdiv"><h2>Synopsis</h2><pre class="synopsis">FROB TABLE <em class="replaceable"><code>name</code></em></pre></div>
<div class="refsect1" id="id-1.2"><h2>Description</h2><p><code class="command">FROB TABLE</code> frobnicates a table once.</p></div>
<div class="refsect1" id="id-1.3"><h2>Parameters</h2><div class="variablelist"><dl class="variablelist">${options}</dl></div></div></div>
<div class="navfooter"><hr /><table width="100%" summary="Navigation footer"><tr><td><a accesskey="p" href="prev.html">Prev</a></td><td><a accesskey="h" href="index.html">Home</a></td></tr></table></div></body></html>`;

  it("takes the DocBook division whole and leaves the navigation out", () => {
    const extracted = extractPage(page);
    expect(extracted.title).toBe("FROB TABLE");
    expect(extracted.markdown).toMatch(/^## FROB TABLE\n\nFROB TABLE — frobnicate a table/);
    expect(extracted.markdown).toContain("## Synopsis");
    expect(extracted.markdown).toContain("frobnicates a table once");
    expect(extracted.markdown).toContain("`OPTION_11`");
    expect(extracted.markdown).not.toMatch(/Prev|Next|Home|SQL Commands/);
    expect(extracted.markdown).toBe(extractPageDom(page).markdown);
  });
});
