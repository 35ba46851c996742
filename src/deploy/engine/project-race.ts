/**
 * Thrown by a step that finds its plan out of date (another apply made the same project first): apply stops
 * before anything else happens and the command plans again. (How the copies settle: resources/project.ts.)
 */
export class PlanOutOfDate extends Error {
  override name = "PlanOutOfDate";
}
