/**
 * The closed action vocabulary (house style P4), ordered by severity, with fixed symbols. The summary lines
 * are a contract with CI scripts and reviewers: do not reword them.
 */

export const ACTIONS = ["skip", "update", "create", "recreate", "delete"] as const;
export type ActionType = (typeof ACTIONS)[number];

export const SEVERITY: Readonly<Record<ActionType, number>> = { skip: 0, update: 1, create: 2, recreate: 3, delete: 4 };

export const SYMBOLS: Readonly<Record<ActionType, string>> = {
  skip: " ",
  update: "~",
  create: "+",
  recreate: "-/+",
  delete: "-",
};

export function maxAction(a: ActionType, b: ActionType): ActionType {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** Actions that destroy something live and therefore need approval (a TTY prompt or --auto-approve). */
export function isDestructive(action: ActionType): boolean {
  return action === "delete" || action === "recreate";
}

export type ActionCounts = Record<ActionType, number>;

export function emptyCounts(): ActionCounts {
  return { skip: 0, update: 0, create: 0, recreate: 0, delete: 0 };
}

/** `Plan: 2 to create, 1 to update, 0 to recreate, 0 to delete, 5 unchanged.` — fixed wording. */
export function planSummaryLine(c: ActionCounts): string {
  return `Plan: ${c.create} to create, ${c.update} to update, ${c.recreate} to recreate, ${c.delete} to delete, ${c.skip} unchanged.`;
}
