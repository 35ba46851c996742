// The chat page: settings from /api/config, answers streamed from POST api/chat (Server-Sent Events),
// sources per answer, citations that jump to their source. No framework, no build step.
import { readableSource, renderMarkdown, safeHttpUrl } from "./render.js";

const $ = (id) => document.getElementById(id);
const els = {
  model: $("model"),
  store: $("store"),
  temperature: $("temperature"),
  temperatureValue: $("temperature-value"),
  maxTokens: $("max-tokens"),
  note: $("choice-note"),
  modelUnavailable: $("model-unavailable"),
  storeUnavailable: $("store-unavailable"),
  form: $("ask"),
  question: $("question"),
  send: $("send"),
  stop: $("stop"),
  newChat: $("new-chat"),
  messages: $("messages"),
  empty: $("empty"),
  sources: $("sources"),
  noSources: $("no-sources"),
  formError: $("form-error"),
};

const state = { history: [], answers: [], controller: null, config: null };

function option(choice) {
  const el = document.createElement("option");
  el.value = choice.id;
  el.textContent = choice.available ? choice.label : `${choice.label} (unavailable)`;
  el.disabled = !choice.available;
  el.title = choice.detail;
  return el;
}

/**
 * The choices that cannot be picked, each with what to set, on the page under its list: a disabled option's
 * tooltip is all most people would otherwise see of the reason, and touch screens and keyboards show none.
 */
function listUnavailable(list, choices) {
  const items = choices
    .filter((c) => !c.available)
    .map((c) => {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = `${c.label}: `;
      item.append(label, document.createTextNode(c.detail));
      return item;
    });
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
}

function updateNote() {
  const model = state.config?.models.find((m) => m.id === els.model.value);
  const store = state.config?.stores.find((s) => s.id === els.store.value);
  els.note.textContent = [model?.detail, store?.detail].filter(Boolean).join(" · ");
}

async function loadConfig() {
  const response = await fetch("api/config");
  if (!response.ok) throw new Error(`could not load settings (${response.status})`);
  const config = await response.json();
  state.config = config;
  els.model.replaceChildren(...config.models.map(option));
  els.store.replaceChildren(...config.stores.map(option));
  listUnavailable(els.modelUnavailable, config.models);
  listUnavailable(els.storeUnavailable, config.stores);
  els.model.value = config.defaults.model;
  els.store.value = config.defaults.store;
  els.temperature.value = String(config.defaults.temperature);
  els.temperatureValue.textContent = String(config.defaults.temperature);
  els.maxTokens.value = String(config.defaults.maxTokens);
  els.maxTokens.max = String(config.limits.maxTokens.max);
  updateNote();
}

function showSources(answer, highlight) {
  for (const other of state.answers) other.element.classList.toggle("selected", other === answer);
  els.sources.replaceChildren();
  els.noSources.hidden = answer.sources.length > 0;
  if (answer.sources.length === 0) els.noSources.textContent = "This answer has no sources.";
  for (const source of answer.sources) {
    const item = document.createElement("li");
    item.id = `source-${source.n}`;
    item.tabIndex = -1;
    const head = document.createElement("div");
    head.append(document.createTextNode(`[${source.n}] `));
    const href = safeHttpUrl(source.url);
    if (href) {
      const a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = source.title;
      head.append(a);
    } else {
      head.append(document.createTextNode(source.title));
    }
    const section = document.createElement("div");
    section.className = "section";
    section.textContent = source.section;
    const excerpt = document.createElement("div");
    excerpt.className = "excerpt";
    excerpt.append(renderMarkdown(document, readableSource(source.text, source.url)));
    item.append(head, section, excerpt);
    if (source.n === highlight) item.classList.add("highlight");
    els.sources.append(item);
  }
  if (highlight !== undefined) {
    const target = document.getElementById(`source-${highlight}`);
    target?.scrollIntoView({ block: "nearest" });
    target?.focus();
  }
}

function addMessage(role) {
  els.empty.hidden = true;
  const item = document.createElement("li");
  item.className = `message ${role}`;
  els.messages.append(item);
  return item;
}

function formatMs(ms) {
  return ms === null || ms === undefined ? "–" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Parses an SSE response body, calling onEvent(name, data) per event. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) onEvent(event, JSON.parse(data.join("\n")));
      end = buffer.indexOf("\n\n");
    }
  }
}

function setBusy(busy) {
  els.send.disabled = busy;
  els.stop.disabled = !busy;
}

async function ask(question) {
  els.formError.textContent = "";
  const userItem = addMessage("user");
  userItem.textContent = question;
  const element = addMessage("assistant");
  const body = document.createElement("div");
  body.className = "answer";
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = "Retrieving…";
  element.append(body, meta);
  const answer = { element, sources: [], text: "" };
  state.answers.push(answer);
  const onCite = (n) => showSources(answer, n);
  let scheduled = false;
  const render = () => {
    scheduled = false;
    body.replaceChildren(renderMarkdown(document, answer.text, onCite));
  };

  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  const request = {
    question,
    history: state.history.slice(-12),
    model: els.model.value,
    store: els.store.value,
    temperature: Number(els.temperature.value),
    maxTokens: Number(els.maxTokens.value),
  };
  let finished = false;
  try {
    const response = await fetch("api/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ error: response.statusText }));
      throw new Error(problem.error ?? `request failed (${response.status})`);
    }
    await readEvents(response.body, (event, data) => {
      if (event === "sources") {
        answer.sources = data.sources;
        showSources(answer);
        meta.textContent = `${data.sources.length} sources · thinking…`;
      } else if (event === "delta") {
        answer.text += data.text;
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(render);
        }
      } else if (event === "usage") {
        const tokens = `${data.inputTokens} in / ${data.outputTokens} out tokens${data.estimated ? " (estimated)" : ""}`;
        meta.textContent = `${data.model} · ${data.store} · first token ${formatMs(data.firstTokenMs)} · total ${formatMs(data.totalMs)} · ${tokens}`;
      } else if (event === "done") {
        finished = true;
      } else if (event === "error") {
        const error = document.createElement("p");
        error.className = "error";
        error.setAttribute("role", "alert");
        error.textContent = data.message;
        element.append(error);
      }
    });
  } catch (error) {
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = controller.signal.aborted ? "Stopped." : String(error.message ?? error);
    element.append(p);
    if (!answer.text) meta.textContent = "";
  } finally {
    render();
    state.controller = null;
    setBusy(false);
    if (finished) {
      state.history.push({ role: "user", content: question }, { role: "assistant", content: answer.text });
    }
    els.question.focus();
  }
}

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = els.question.value.trim();
  if (!question || state.controller) return;
  els.question.value = "";
  void ask(question);
});
els.question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    els.form.requestSubmit();
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.controller) state.controller.abort();
});
els.stop.addEventListener("click", () => state.controller?.abort());
els.newChat.addEventListener("click", () => {
  state.history = [];
  state.answers = [];
  els.messages.replaceChildren();
  els.sources.replaceChildren();
  els.empty.hidden = false;
  els.noSources.hidden = false;
  els.question.focus();
});
els.temperature.addEventListener("input", () => {
  els.temperatureValue.textContent = els.temperature.value;
});
els.model.addEventListener("change", updateNote);
els.store.addEventListener("change", updateNote);

loadConfig().catch((error) => {
  els.formError.textContent = error.message;
});
