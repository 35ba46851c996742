import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningChatServer, startChatServer } from "../../src/workloads/app/listen.js";
import { storeChoices } from "../../src/workloads/app/stores.js";
import { createOfflineModel } from "../../src/workloads/llm/offline.js";
import type { ChatModel } from "../../src/workloads/llm/types.js";
import { fixedRetriever, PASSAGES } from "../app/fixtures.js";

// Drives Debian's chromium (installed by .ci/run) against the real server: settings, streaming, citations,
// and that hostile document text stays text.
//
// Without the browser, `npm test` on a fresh machine skips this file and says so; under CI (where .ci/run installs
// chromium) a missing browser fails, so the skip can never hide there. CML_LAB_CHROMIUM names another executable
// (test/browser/chromium-missing.test.ts points it at a missing file to check both).
const CHROMIUM = process.env.CML_LAB_CHROMIUM || "/usr/bin/chromium";
const IN_CI = Boolean(process.env.CI) && process.env.CI !== "false";
const SKIP = !existsSync(CHROMIUM) && !IN_CI;
if (SKIP)
  console.warn(
    `SKIPPED test/browser/chat-ui.test.ts (the chat page in a browser): no chromium at ${CHROMIUM}. ` +
      "To run it: apt-get install chromium (or set CML_LAB_CHROMIUM to a Chromium executable).",
  );
const artifacts = join(import.meta.dirname, "../../test-artifacts");
const HOSTILE = {
  docId: "hostile.html",
  title: "Hostile <b>page</b>",
  section: "Hostile page › Widgets",
  url: "javascript:alert(1)",
  text: 'Widgets are configured in the widget panel <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script> with care.',
};

// A passage as the extractor writes it: a relative link with a title, an escape, an image, a non-http link.
const LINKED = {
  docId: "tutorial/range.html",
  title: "Ranges",
  section: "Ranges › Loops over numbers",
  url: "https://docs.example/tutorial/range.html#loops",
  text: 'Loops over numbers use [`range()`](../library/functions.html#range "range: built-in") and never items\\_list[1]; see ![a diagram](../_images/loop.png) and [a local note](javascript:alert(3)).',
};

/** Streams a fixed answer slowly so the test can watch it arrive token by token. */
function slowModel(): ChatModel {
  return {
    id: "openai",
    describe: () => "slow test model",
    async *stream(input, options) {
      const hostile = input.sources.find((s) => s.text.includes("<img"));
      const loops = input.sources.find((s) => s.title === "More Control Flow Tools");
      const text = `Loops use **for** statements [${loops?.n}], and \`range()\` [${loops?.n}]. Widgets: ${hostile?.text ?? ""} [${hostile?.n}] [42]`;
      for (const word of text.match(/\S+\s*/g) ?? []) {
        await new Promise((r) => setTimeout(r, 25));
        if (options.signal?.aborted) throw new Error("aborted");
        yield { type: "delta", text: word };
      }
      yield { type: "usage", inputTokens: 100, outputTokens: 30, estimated: false };
    },
  };
}

let server: RunningChatServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `CI=${process.env.CI} and no chromium at ${CHROMIUM}: the browser test must run in CI (.ci/run installs it)`,
    );
  const env = {
    CML_LAB_OPENAI_BASE_URL: "https://caii.example/v1",
    CML_LAB_OPENAI_MODEL: "test-model",
    CML_LAB_OPENAI_API_KEY: "browser-test-key",
    HOME: "/nonexistent",
  };
  server = await startChatServer({
    port: 0,
    env,
    stores: storeChoices(env, true),
    openRetriever: async () => fixedRetriever([...PASSAGES.slice(0, 1), HOSTILE, LINKED]),
    createModel: (id) => (id === "openai" ? slowModel() : createOfflineModel()),
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  mkdirSync(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(SKIP)("chat page in chromium", () => {
  it("loads settings, disables unconfigured choices with the reason", async () => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto(server.url);
    await expect.poll(() => page.locator("#model option").count()).toBe(4);
    const bedrock = page.locator('#model option[value="bedrock"]');
    expect(await bedrock.isDisabled()).toBe(true);
    expect(await bedrock.getAttribute("title")).toMatch(/CML_LAB_BEDROCK_MODEL_ID/);
    expect(await page.locator('#store option[value="chroma"]').isDisabled()).toBe(true);
    expect(await page.locator("#model").inputValue()).toBe("offline");
    // The reasons are on the page, under the list they belong to, not only in tooltips.
    const modelWhy = page.locator("#model-unavailable");
    expect(await modelWhy.isVisible()).toBe(true);
    expect(await modelWhy.locator("li").allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Amazon Bedrock.*: set CML_LAB_BEDROCK_MODEL_ID/)]),
    );
    const storeWhy = page.locator("#store-unavailable");
    expect(await storeWhy.isVisible()).toBe(true);
    expect(await storeWhy.locator("li").allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Chroma: set CML_LAB_CHROMA_URL/)]),
    );
    expect(await modelWhy.textContent()).not.toMatch(/Offline|Cloudera AI Inference/);
    const settings = await page.locator("#ask .settings").boundingBox();
    const why = await storeWhy.boundingBox();
    expect(why && settings && why.y + why.height <= settings.y + settings.height + 1).toBe(true);
    await page.locator("#ask").screenshot({ path: join(artifacts, "chat-ui-settings.png") });
    expect(errors).toEqual([]);
  });

  it("streams an answer with working citations; hostile document text renders as text", async () => {
    await page.selectOption("#model", "openai");
    await page.selectOption("#store", "local");
    await page.locator("#temperature").fill("0.7");
    expect(await page.locator("#temperature-value").textContent()).toBe("0.7");
    await page.locator("#max-tokens").fill("300");
    await page.locator("#question").fill("How do for loops and widgets work?");
    await page.keyboard.press("Enter");

    // Streaming: partial text is on screen while Stop is still enabled.
    const answer = page.locator(".message.assistant .answer").last();
    await expect.poll(async () => (await answer.textContent())?.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(5);
    expect(await page.locator("#stop").isEnabled()).toBe(true);
    const partial = (await answer.textContent()) ?? "";
    await expect.poll(() => page.locator("#stop").isDisabled(), { timeout: 15_000 }).toBe(true);
    const full = (await answer.textContent()) ?? "";
    expect(full.length).toBeGreaterThan(partial.length);
    expect(full).toContain("for");
    expect(full).not.toContain("[42]");
    expect(await page.locator(".message.assistant .meta").last().textContent()).toMatch(
      /first token \d+ ms · total .* · 100 in \/ 30 out tokens/,
    );

    // Hostile text: shown literally, nothing executed, no element created from it.
    expect(full).toContain('<img src=x onerror="window.__pwned=1">');
    expect(await page.evaluate(() => "__pwned" in window)).toBe(false);
    expect(await page.locator("main img, main script").count()).toBe(0);
    const hostileSource = page.locator("#sources li", { hasText: "Widgets are configured" });
    expect(await hostileSource.textContent()).toContain("<script>window.__pwned=2</script>");
    expect(await hostileSource.locator("a").count()).toBe(0); // javascript: URL is not made a link

    // Source text reads as the page does: links resolved against the page, no Markdown syntax left over.
    const linked = page.locator("#sources li", { hasText: "Loops over numbers" }).locator(".excerpt");
    expect(await linked.textContent()).toBe(
      "Loops over numbers use range() and never items_list[1]; see a diagram and a local note.",
    );
    expect(await linked.locator("a").count()).toBe(1);
    expect(await linked.locator("a").getAttribute("href")).toBe("https://docs.example/library/functions.html#range");
    expect(await linked.locator("a code").textContent()).toBe("range()");
    expect(await linked.locator("a.cite").count()).toBe(0);

    // Citation link: jumps to and highlights its source.
    const loopsSource = page.locator("#sources li", { hasText: "More Control Flow Tools" });
    const id = (await loopsSource.getAttribute("id")) ?? "";
    expect(id).toMatch(/^source-\d$/);
    expect(await loopsSource.locator("a").getAttribute("href")).toBe(PASSAGES[0]?.url);
    await answer
      .locator("a.cite", { hasText: `[${id.slice(7)}]` })
      .first()
      .click();
    await expect.poll(() => loopsSource.getAttribute("class")).toContain("highlight");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(id);
    expect(await answer.locator("a.cite").count()).toBe(3);
    await page.screenshot({ path: join(artifacts, "chat-ui.png"), fullPage: true });
  });

  it("stops a streaming answer with Escape, and works on a narrow screen", async () => {
    await page.setViewportSize({ width: 380, height: 800 });
    await page.locator("#question").fill("Tell me about for loops again");
    await page.locator("#send").click();
    const answer = page.locator(".message.assistant").last();
    await expect
      .poll(async () => (await answer.locator(".answer").textContent())?.length ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(0);
    await page.keyboard.press("Escape");
    await expect.poll(() => answer.locator(".error").textContent()).toBe("Stopped.");
    expect(await page.locator("#send").isEnabled()).toBe(true);
    const box = await page.locator("#sources-panel").boundingBox();
    const chat = await page.locator("#conversation").boundingBox();
    expect(box && chat && box.y >= chat.y + chat.height - 1).toBe(true); // stacked below, not squeezed beside
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(380);
    await page.screenshot({ path: join(artifacts, "chat-ui-narrow.png"), fullPage: true });
  });
});
