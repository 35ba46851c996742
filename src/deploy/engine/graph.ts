/**
 * Dependency order (house style P6): topological order of plan entries, and a cycle error that names the edges.
 */

export interface GraphNode<K extends string> {
  key: K;
  dependsOn: readonly K[];
}

export class CycleError extends Error {
  override readonly name = "CycleError";
  constructor(readonly cycle: readonly string[]) {
    super(`dependency cycle: ${cycle.join(" → ")}`);
  }
}

/**
 * Kahn's algorithm, stable in input order. Edges to keys that are not nodes are ignored (a reference to a
 * resource that needs no action is already satisfied).
 */
export function topoOrder<K extends string, N extends GraphNode<K>>(nodes: readonly N[]): N[] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const indegree = new Map<K, number>();
  const dependents = new Map<K, K[]>();
  for (const n of nodes) {
    const deps = n.dependsOn.filter((d) => byKey.has(d) && d !== n.key);
    indegree.set(n.key, deps.length);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), n.key]);
  }
  const ready = nodes.filter((n) => indegree.get(n.key) === 0).map((n) => n.key);
  const order: N[] = [];
  while (ready.length > 0) {
    const key = ready.shift() as K;
    const node = byKey.get(key);
    if (node) order.push(node);
    for (const dep of dependents.get(key) ?? []) {
      const left = (indegree.get(dep) ?? 0) - 1;
      indegree.set(dep, left);
      if (left === 0) ready.push(dep);
    }
  }
  if (order.length < nodes.length) throw new CycleError(findCycle(nodes, byKey));
  return order;
}

function findCycle<K extends string, N extends GraphNode<K>>(nodes: readonly N[], byKey: Map<K, N>): K[] {
  const state = new Map<K, "visiting" | "done">();
  const stack: K[] = [];
  const visit = (key: K): K[] | undefined => {
    if (state.get(key) === "done") return undefined;
    if (state.get(key) === "visiting") return [...stack.slice(stack.indexOf(key)), key];
    state.set(key, "visiting");
    stack.push(key);
    for (const d of byKey.get(key)?.dependsOn ?? []) {
      if (!byKey.has(d) || d === key) continue;
      const found = visit(d);
      if (found) return found;
    }
    stack.pop();
    state.set(key, "done");
    return undefined;
  };
  for (const n of nodes) {
    const found = visit(n.key);
    if (found) return found;
  }
  return [];
}

/** Every node that depends, directly or not, on `key`. */
export function dependentsOf<K extends string>(nodes: readonly GraphNode<K>[], key: K): Set<K> {
  const out = new Set<K>();
  let frontier = [key];
  while (frontier.length > 0) {
    const next: K[] = [];
    for (const n of nodes)
      if (!out.has(n.key) && n.dependsOn.some((d) => frontier.includes(d))) {
        out.add(n.key);
        next.push(n.key);
      }
    frontier = next;
  }
  return out;
}
