import { get } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DocsSite, startDocsSite } from "../../src/lab/docs-site.js";

const root = join(import.meta.dirname, "../../samples/python-docs");

describe("the local docs site the lab's scrape job fetches from", () => {
  let site: DocsSite;
  beforeAll(async () => {
    site = await startDocsSite({ root });
  });
  afterAll(() => site.close());

  it("lists every documentation page (not the licence) as absolute links", async () => {
    const links = (await (await fetch(`${site.url}/html_links.txt`)).text()).trim().split("\n");
    expect(links).toHaveLength(site.pages.length);
    expect(links).toContain(`${site.url}/tutorial/classes.html`);
    expect(links.some((link) => link.includes("LICENSE"))).toBe(false);
    const sitemap = await (await fetch(`${site.url}/sitemap.xml`)).text();
    expect(sitemap).toContain(`<loc>${site.url}/faq/programming.html</loc>`);
  });

  it("serves pages as HTML and refuses paths outside the corpus", async () => {
    const page = await fetch(`${site.url}/tutorial/classes.html`);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("<title>9. Classes");
    expect((await fetch(`${site.url}/nope.html`)).status).toBe(404);
    // fetch() normalises `..` away, so send the encoded traversal on a raw request.
    const status = await new Promise<number | undefined>((done, fail) =>
      get({ host: "127.0.0.1", port: site.port, path: "/..%2f..%2fpackage.json" }, (res) => {
        res.resume();
        done(res.statusCode);
      }).on("error", fail),
    );
    expect(status).toBe(403);
  });

  it("sends validators and answers a matching conditional GET with 304, so a re-scrape is incremental", async () => {
    const url = `${site.url}/tutorial/classes.html`;
    const first = await fetch(url);
    await first.arrayBuffer();
    const etag = first.headers.get("etag");
    const lastModified = first.headers.get("last-modified");
    expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
    expect(Date.parse(lastModified ?? "")).not.toBeNaN();

    const byTag = await fetch(url, { headers: { "if-none-match": `"other", ${etag}` } });
    expect(byTag.status).toBe(304);
    expect(byTag.headers.get("etag")).toBe(etag);
    expect(await byTag.text()).toBe("");
    const byDate = await fetch(url, { headers: { "if-modified-since": lastModified ?? "" } });
    expect(byDate.status).toBe(304);

    // A validator for another version gets the page; If-None-Match wins over If-Modified-Since (RFC 9110).
    const stale = await fetch(url, {
      headers: { "if-none-match": '"stale"', "if-modified-since": lastModified ?? "" },
    });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toContain("<title>9. Classes");
    const older = await fetch(url, { headers: { "if-modified-since": new Date(0).toUTCString() } });
    expect(older.status).toBe(200);
    await older.arrayBuffer();
  });
});
