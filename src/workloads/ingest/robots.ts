/** The rules of robots.txt that apply to a user agent (RFC 9309: the most specific group, longest match wins). */
export interface RobotsRules {
  isAllowed(path: string): boolean;
}

export function parseRobots(text: string, userAgent: string): RobotsRules {
  const groups: { agents: string[]; rules: { allow: boolean; path: string }[] }[] = [];
  let current: (typeof groups)[number] | undefined;
  let lastWasAgent = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/#.*$/, "").trim();
    const match = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line);
    if (!match?.[1]) continue;
    const field = match[1].toLowerCase();
    const value = (match[2] ?? "").trim();
    if (field === "user-agent") {
      if (!current || !lastWasAgent) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      current.agents.push(value.toLowerCase());
      lastWasAgent = true;
      continue;
    }
    lastWasAgent = false;
    if (current && (field === "allow" || field === "disallow") && value) {
      current.rules.push({ allow: field === "allow", path: value });
    }
  }
  const agent = userAgent.toLowerCase();
  const specific = groups.filter((group) => group.agents.some((name) => name !== "*" && agent.includes(name)));
  const chosen = specific.length ? specific : groups.filter((group) => group.agents.includes("*"));
  const rules = chosen.flatMap((group) => group.rules);
  return {
    isAllowed(path) {
      let best: { allow: boolean; length: number } | undefined;
      for (const rule of rules) {
        if (!matches(rule.path, path)) continue;
        const length = rule.path.length;
        if (!best || length > best.length || (length === best.length && rule.allow))
          best = { allow: rule.allow, length };
      }
      return best?.allow ?? true;
    },
  };
}

function matches(pattern: string, path: string): boolean {
  const anchored = pattern.endsWith("$");
  const body = (anchored ? pattern.slice(0, -1) : pattern)
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}${anchored ? "$" : ""}`).test(path);
}
